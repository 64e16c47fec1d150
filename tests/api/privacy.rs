//! A reader's data: the export of everything held about them, and erasure of their account,
//! by themselves or by an admin.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

impl TestApp {
    pub async fn export(&self, token: &str) -> crate::helpers::Response {
        self.get_as("/api/v1/me/export", token).await
    }

    pub async fn erase_me(&self, token: &str, body: &Value) -> crate::helpers::Response {
        self.send_json("DELETE", "/api/v1/me", Some(token), Some(body))
            .await
    }

    pub async fn erase_user(
        &self,
        token: &str,
        id: i64,
        body: Option<&Value>,
    ) -> crate::helpers::Response {
        let path = format!("/api/v1/admin/users/{id}");
        self.send_json("DELETE", &path, Some(token), body).await
    }
}

/// Alice's history: a topic, a comment answered by Bob, a vote on Bob's answer, a report of
/// it, a newsletter subscription. Returns (topic, alice's comment, bob's reply).
async fn history(app: &TestApp, alice: &str, bob: &str) -> (i64, i64, i64) {
    let topic = app.topic(alice, "Alice asks").await;
    let hers = app.commented(alice, topic, "Alice's own words", None).await;
    let his = app.commented(bob, topic, "Bob answers", Some(hers)).await;
    assert_eq!(app.vote(alice, his, 1).await.status, 200);
    assert_eq!(app.report(alice, his, "spam").await.status, 202);
    assert_eq!(app.subscribe("alice@example.com").await.status, 202);
    (topic, hers, his)
}

#[actix_web::test]
async fn a_reader_exports_everything_held_about_them() {
    let app =
        TestApp::spawn_with(&[("TRIBUNE_RATE_LIMITS", "on"), ("TRIBUNE_EXPORT_RATE", "2")]).await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let (topic, hers, his) = history(&app, &alice.access, &bob.access).await;
    // Enough comments for several pages of the stream.
    app.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 450) \
         INSERT INTO comments (discussion_id, depth, path, author_id, body, body_html, status, score, created_at) \
         SELECT {topic}, 0, 'x' || i, {}, 'extra ' || i, '', 'visible', 0, CURRENT_TIMESTAMP FROM n",
        alice.user_id
    ));

    assert_eq!(app.get("/api/v1/me/export").await.status, 401);
    let res = app.export(&alice.access).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.header("content-disposition")
            .unwrap()
            .starts_with("attachment"),
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let export = res.json();
    assert_eq!(export["account"]["username"], "alice");
    assert_eq!(export["account"]["email"], "alice@example.com");
    assert!(export["account"].get("password_hash").is_none());
    assert_eq!(
        export["sessions"].as_array().unwrap().len(),
        1,
        "{}",
        export["sessions"]
    );
    assert_eq!(export["topics"][0]["id"], topic);
    let comments = export["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 451);
    assert_eq!(comments[0]["id"], hers);
    assert_eq!(comments[0]["body"], "Alice's own words");
    assert_eq!(comments[450]["body"], "extra 450");
    let ids: std::collections::BTreeSet<i64> =
        comments.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 451, "no comment twice across pages");
    assert_eq!(
        export["votes"],
        json!([{"comment_id": his, "value": 1, "created_at": export["votes"][0]["created_at"]}])
    );
    assert_eq!(export["reports"][0]["comment_id"], his);
    assert_eq!(export["reports"][0]["reason"], "spam");
    assert_eq!(export["newsletter"][0]["email"], "alice@example.com");
    assert_eq!(export["newsletter"][0]["status"], "pending");
    assert!(export["mutes"].as_array().unwrap().is_empty());
    assert!(export["notifications"].is_array());
    // Nothing of Bob's.
    assert!(!res.text().contains("Bob answers"));

    // A few a day, per account.
    assert_eq!(app.export(&alice.access).await.status, 200);
    app.export(&alice.access).await.problem(429);
    assert_eq!(app.export(&bob.access).await.status, 200);
}

#[actix_web::test]
async fn a_reader_erases_their_account() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let (topic, hers, his) = history(&app, &alice.access, &bob.access).await;

    let wrong = app
        .erase_me(&alice.access, &json!({"password": "not it at all"}))
        .await
        .problem(422);
    assert!(wrong.to_string().contains("password"), "{wrong}");
    let res = app
        .erase_me(&alice.access, &json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, 204, "{}", res.text());

    // Signed out everywhere, and no way back in.
    assert_eq!(app.me(&alice.access).await.status, 401);
    assert_eq!(app.refresh(&alice.refresh).await.status, 401);
    assert_eq!(app.login("alice", PASSWORD).await.status, 401);
    assert_eq!(app.login("alice@example.com", PASSWORD).await.status, 401);
    assert_eq!(app.profile("alice").await.status, 404);

    // Her comment keeps its place, without its text or author; Bob's reply is still under it.
    let thread = app.comments(topic, "").await.json();
    let root = &thread["items"][0];
    assert_eq!(root["id"], hers);
    assert_eq!(root["status"], "deleted");
    assert!(root["author"].is_null(), "{root}");
    assert!(root["body"].is_null(), "{root}");
    assert_eq!(root["children"][0]["id"], his);
    assert_eq!(root["children"][0]["score"], 0, "her vote is gone");
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1);
    assert_eq!(
        discussion["title"], "Alice asks",
        "the thread keeps its name"
    );
    assert!(discussion["author"].is_null(), "{discussion}");
    assert!(
        !discussion.to_string().contains("Something to say"),
        "{discussion}"
    );
    app.assert_counters_match_a_recount();

    // Nothing personal is left in the database.
    for (table, query) in [
        (
            "users",
            "SELECT COUNT(*) AS n FROM users WHERE email = 'alice@example.com' OR display_name = 'alice' OR username = 'alice'",
        ),
        (
            "sessions",
            &format!(
                "SELECT COUNT(*) AS n FROM sessions WHERE user_id = {}",
                alice.user_id
            ),
        ),
        (
            "subscribers",
            "SELECT COUNT(*) AS n FROM newsletter_subscribers WHERE email_key = 'alice@example.com'",
        ),
        (
            "outbox",
            "SELECT COUNT(*) AS n FROM outbox WHERE recipient = 'alice@example.com'",
        ),
        (
            "comments",
            "SELECT COUNT(*) AS n FROM comments WHERE body LIKE '%Alice%'",
        ),
        (
            "votes",
            &format!(
                "SELECT COUNT(*) AS n FROM comment_votes WHERE user_id = {}",
                alice.user_id
            ),
        ),
        (
            "search",
            "SELECT COUNT(*) AS n FROM search_documents WHERE body_terms LIKE '%alice%'",
        ),
    ] {
        let n = app.number(&query.replace("COUNT(*)", "CAST(COUNT(*) AS BIGINT)"));
        assert_eq!(n, 0, "{table} still holds Alice's data");
    }
    let search = app.get("/api/v1/search?q=Alice%27s%20words").await.json();
    assert!(search["items"].as_array().unwrap().is_empty(), "{search}");

    // Her username stays taken for a while; her address is free again.
    let taken = app
        .register(&json!({"username": "Alice", "email": "new@example.com", "password": PASSWORD}))
        .await
        .problem(409);
    assert!(taken.to_string().contains("username"), "{taken}");
    let res = app
        .register(
            &json!({"username": "alice2", "email": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // The audit log keeps the id and what happened.
    let admin = app.first_admin().await;
    let log = app
        .get_as("/api/v1/admin/audit-log?action=erase", &admin.access)
        .await
        .json();
    assert_eq!(log["items"][0]["target_type"], "user");
    assert_eq!(log["items"][0]["target_id"], alice.user_id);

    // Once the period is over, the username is free.
    app.age("users", "erased_at", 200 * 86_400);
    let stdout = app.purge();
    assert!(stdout.contains("released 1 usernames"), "{stdout}");
    let res = app
        .register(&json!({"username": "alice", "email": "other@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

#[actix_web::test]
async fn a_reader_may_keep_their_comments_without_their_name() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let (topic, hers, _) = history(&app, &alice.access, &bob.access).await;
    let res = app
        .erase_me(
            &alice.access,
            &json!({"password": PASSWORD, "keep_comments": true}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let thread = app.comments(topic, "").await.json();
    let root = &thread["items"][0];
    assert_eq!(root["id"], hers);
    assert_eq!(root["status"], "visible");
    assert_eq!(root["body"], "Alice's own words");
    assert!(root["author"].is_null(), "{root}");
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 2);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn an_admin_erases_a_readers_account_with_a_reason() {
    let app = TestApp::spawn().await;
    let admin = app.first_admin().await;
    let moderator = app.with_role("mod", "moderator").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let (topic, _, _) = history(&app, &alice.access, &bob.access).await;

    app.erase_user(&moderator.access, alice.user_id, None)
        .await
        .problem(403);
    app.erase_user(&admin.access, admin.user_id, None)
        .await
        .problem(409);
    app.erase_user(&admin.access, 999_999, None)
        .await
        .problem(404);
    app.erase_user(
        &admin.access,
        alice.user_id,
        Some(&json!({"reason": "x".repeat(1001)})),
    )
    .await
    .problem(422);
    let res = app
        .erase_user(
            &admin.access,
            alice.user_id,
            Some(&json!({"reason": "asked by mail"})),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.erase_user(&admin.access, alice.user_id, None)
        .await
        .problem(404);
    assert_eq!(app.me(&alice.access).await.status, 401);
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1);
    app.assert_counters_match_a_recount();
    let log = app
        .get_as("/api/v1/admin/audit-log?action=erase", &admin.access)
        .await
        .json();
    assert_eq!(log["items"][0]["target_id"], alice.user_id);
    assert_eq!(log["items"][0]["reason"], "asked by mail");
    assert_eq!(log["items"][0]["actor_username"], "root");

    // An admin's own account: another admin changes its role first.
    let other = app.with_role("second", "admin").await;
    let problem = app
        .erase_user(&admin.access, other.user_id, None)
        .await
        .problem(409);
    assert!(problem.to_string().contains("role"), "{problem}");
    let problem = app
        .erase_me(&other.access, &json!({"password": PASSWORD}))
        .await
        .problem(409);
    assert!(problem.to_string().contains("admin"), "{problem}");
}
