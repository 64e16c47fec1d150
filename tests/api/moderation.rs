//! Moderation: who may do what, locks and pins in the feed, hidden comments, topic deletion,
//! and the audit log holding every action.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens};

struct Cast {
    user: Tokens,
    editor: Tokens,
    moderator: Tokens,
    admin: Tokens,
}

async fn cast(app: &TestApp) -> Cast {
    Cast {
        user: app.signed_up("reader").await,
        editor: app.editor("editor").await,
        moderator: app.with_role("mod", "moderator").await,
        admin: app.with_role("chief", "admin").await,
    }
}

#[actix_web::test]
async fn every_moderation_route_is_for_moderators_and_admins() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let topic = app.topic(&cast.user.access, "Matrix").await;
    let comment = app
        .commented(&cast.user.access, topic, "a comment", None)
        .await;
    let routes: Vec<(&str, String)> = vec![
        ("POST", format!("/api/v1/admin/discussions/{topic}/lock")),
        ("POST", format!("/api/v1/admin/discussions/{topic}/unlock")),
        ("POST", format!("/api/v1/admin/discussions/{topic}/pin")),
        ("POST", format!("/api/v1/admin/discussions/{topic}/unpin")),
        ("POST", format!("/api/v1/admin/comments/{comment}/hide")),
        ("POST", format!("/api/v1/admin/comments/{comment}/restore")),
        ("GET", "/api/v1/admin/audit-log".to_string()),
    ];
    for (method, path) in &routes {
        app.send_json(method, path, None, None).await.problem(401);
        for (who, token) in [("user", &cast.user), ("editor", &cast.editor)] {
            let res = app.send_json(method, path, Some(&token.access), None).await;
            assert_eq!(res.status, 403, "{who} {method} {path}: {}", res.text());
        }
        for (who, token) in [("moderator", &cast.moderator), ("admin", &cast.admin)] {
            let res = app.send_json(method, path, Some(&token.access), None).await;
            assert_eq!(res.status, 200, "{who} {method} {path}: {}", res.text());
        }
    }
    // The report queue and resolving a report.
    let other = app.signed_up("other").await;
    let reported = app.commented(&other.access, topic, "reported", None).await;
    let receipt = app.report(&cast.user.access, reported, "spam").await.json();
    let report = receipt["id"].as_i64().unwrap();
    let dismiss = json!({"action": "dismiss"});
    // Resolving: refused to the others, then done by a moderator; the admin resolves another.
    for (token, expected) in [
        (None, 401),
        (Some(&cast.user), 403),
        (Some(&cast.editor), 403),
        (Some(&cast.moderator), 200),
    ] {
        let res = app
            .send_json(
                "POST",
                &format!("/api/v1/admin/reports/{report}/resolve"),
                token.map(|t| t.access.as_str()),
                Some(&dismiss),
            )
            .await;
        assert_eq!(res.status, expected, "resolve: {}", res.text());
    }
    let second = app
        .commented(&other.access, topic, "reported too", None)
        .await;
    let receipt = app.report(&cast.user.access, second, "spam").await.json();
    let res = app
        .resolve_report(
            Some(&cast.admin.access),
            receipt["id"].as_i64().unwrap(),
            "dismiss",
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for (method, path, body) in [
        ("GET", "/api/v1/admin/reports".to_string(), None),
        (
            "GET",
            "/api/v1/admin/newsletter/subscribers".to_string(),
            None,
        ),
        ("GET", "/api/v1/admin/newsletter/digests".to_string(), None),
    ] {
        let admin_only = path.contains("newsletter");
        for (token, expected) in [
            (None, 401),
            (Some(&cast.user), 403),
            (Some(&cast.editor), 403),
            (Some(&cast.moderator), if admin_only { 403 } else { 200 }),
            (Some(&cast.admin), 200),
        ] {
            let res = app
                .send_json(method, &path, token.map(|t| t.access.as_str()), body)
                .await;
            assert_eq!(res.status, expected, "{method} {path}: {}", res.text());
        }
    }
    // Deleting a topic: one each for the moderator and the admin.
    for (who, token, expected) in [
        ("anonymous", None, 401),
        ("user", Some(&cast.user), 403),
        ("editor", Some(&cast.editor), 403),
        ("moderator", Some(&cast.moderator), 204),
        ("admin", Some(&cast.admin), 204),
    ] {
        let doomed = app.topic(&cast.user.access, "Doomed").await;
        let res = app
            .send_json(
                "DELETE",
                &format!("/api/v1/admin/discussions/{doomed}"),
                token.map(|t| t.access.as_str()),
                None,
            )
            .await;
        assert_eq!(res.status, expected, "{who}: {}", res.text());
    }
    // A demoted moderator's token no longer works: roles are read from the database.
    app.set_role(cast.moderator.user_id, "user").await;
    app.send_json("POST", &routes[0].1, Some(&cast.moderator.access), None)
        .await
        .problem(403);
}

#[actix_web::test]
async fn locks_and_pins_show_in_the_feed_and_act() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let first = app.topic(&cast.user.access, "First").await;
    let second = app.topic(&cast.user.access, "Second").await;
    let res = app
        .moderate_discussion(&cast.moderator.access, first, "pin")
        .await;
    assert_eq!(res.json()["pinned"], true);
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][0]["id"], first, "pinned first: {feed}");
    assert_eq!(feed["items"][1]["id"], second);

    app.moderate_discussion(&cast.moderator.access, second, "lock")
        .await;
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][1]["locked"], true, "{feed}");
    let problem = app
        .comment(&cast.user.access, second, "late", None)
        .await
        .problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("locked"));
    app.moderate_discussion(&cast.admin.access, second, "unlock")
        .await;
    app.commented(&cast.user.access, second, "open again", None)
        .await;
    app.moderate_discussion(&cast.moderator.access, first, "unpin")
        .await;
    let feed = app.feed("").await.json();
    assert_eq!(
        feed["items"][0]["id"], second,
        "unpinned, by activity: {feed}"
    );
    app.send_json(
        "POST",
        "/api/v1/admin/discussions/999999/lock",
        Some(&cast.moderator.access),
        None,
    )
    .await
    .problem(404);
}

#[actix_web::test]
async fn hidden_comments_keep_their_place_and_the_counters_follow() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let topic = app.topic(&cast.user.access, "Heated").await;
    let rude = app
        .commented(&cast.user.access, topic, "rude words", None)
        .await;
    let reply = app
        .commented(&cast.editor.access, topic, "calm reply", Some(rude))
        .await;

    let res = app
        .moderate_comment(
            &cast.moderator.access,
            rude,
            "hide",
            Some(&json!({"reason": "insults"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let seen = res.json();
    assert_eq!(seen["status"], "hidden");
    assert_eq!(seen["body"], "rude words", "moderators see what they hid");

    // Moderators see the text in the thread; readers (and a demoted token) do not.
    let as_moderator = app
        .get_as(
            &format!("/api/v1/discussions/{topic}/comments"),
            &cast.moderator.access,
        )
        .await
        .json();
    assert_eq!(as_moderator["items"][0]["body"], "rude words");
    let as_reader = app
        .get_as(
            &format!("/api/v1/discussions/{topic}/comments"),
            &cast.user.access,
        )
        .await
        .json();
    assert_eq!(as_reader["items"][0]["body"], Value::Null);
    let page = app.comments(topic, "").await.json();
    let hidden = &page["items"][0];
    assert_eq!(hidden["status"], "hidden");
    assert_eq!(hidden["body"], Value::Null);
    assert_eq!(hidden["body_html"], Value::Null);
    assert_eq!(hidden["children"][0]["id"], reply, "its replies stay");
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1);
    assert_eq!(app.profile("reader").await.json()["comments_count"], 0);
    app.assert_counters_match_a_recount();

    let res = app
        .moderate_comment(&cast.moderator.access, rude, "restore", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let page = app.comments(topic, "").await.json();
    assert_eq!(page["items"][0]["body"], "rude words");
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 2);
    app.assert_counters_match_a_recount();
    app.moderate_comment(
        &cast.moderator.access,
        rude,
        "hide",
        Some(&json!({"reason": "x".repeat(1001)})),
    )
    .await
    .problem(422);
}

#[actix_web::test]
async fn topics_are_deleted_but_articles_discussions_go_with_their_articles() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let topic = app.topic(&cast.user.access, "Spam").await;
    app.commented(&cast.user.access, topic, "more spam", None)
        .await;
    let res = app
        .delete_topic_as_staff(&cast.moderator.access, topic)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&format!("/api/v1/discussions/{topic}"))
        .await
        .problem(404);
    assert_eq!(app.profile("reader").await.json()["comments_count"], 0);
    app.assert_counters_match_a_recount();

    let article = app
        .create_article(
            &cast.editor.access,
            &json!({"title": "Kept", "lead": "L.", "body": "B."}),
        )
        .await
        .json();
    app.delete_topic_as_staff(
        &cast.moderator.access,
        article["discussion_id"].as_i64().unwrap(),
    )
    .await
    .problem(403);
}

#[actix_web::test]
async fn the_audit_log_holds_every_action_newest_first() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let topic = app.topic(&cast.user.access, "Logged").await;
    let comment = app.commented(&cast.user.access, topic, "c", None).await;
    let act = |method: &'static str, path: String, token: String, body: Option<Value>| {
        let app = &app;
        async move {
            let res = app
                .send_json(method, &path, Some(&token), body.as_ref())
                .await;
            assert!(res.status < 300, "{path}: {}", res.text());
        }
    };
    let m = cast.moderator.access.clone();
    let a = cast.admin.access.clone();
    act(
        "POST",
        format!("/api/v1/admin/discussions/{topic}/lock"),
        m.clone(),
        None,
    )
    .await;
    act(
        "POST",
        format!("/api/v1/admin/discussions/{topic}/pin"),
        a.clone(),
        None,
    )
    .await;
    act(
        "POST",
        format!("/api/v1/admin/comments/{comment}/hide"),
        m.clone(),
        Some(json!({"reason": "spam"})),
    )
    .await;
    act(
        "POST",
        format!("/api/v1/admin/comments/{comment}/restore"),
        m.clone(),
        None,
    )
    .await;
    act(
        "DELETE",
        format!("/api/v1/admin/discussions/{topic}"),
        a.clone(),
        None,
    )
    .await;

    let log = app.get_as("/api/v1/admin/audit-log", &m).await.json();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        // (The roles the test's cast was given by the first admin are in the log too.)
        .filter(|e| e["actor_username"] != "root")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["delete", "restore", "hide", "pin", "lock"],
        "{log}"
    );
    let hide = &log["items"][2];
    assert_eq!(hide["target_type"], "comment");
    assert_eq!(hide["target_id"], comment);
    assert_eq!(hide["reason"], "spam");
    assert_eq!(hide["actor_username"], "mod");
    // Filters and pages.
    let by_admin = app
        .get_as(
            &format!("/api/v1/admin/audit-log?actor_id={}", cast.admin.user_id),
            &m,
        )
        .await
        .json();
    assert_eq!(by_admin["items"].as_array().unwrap().len(), 2);
    let hides = app
        .get_as("/api/v1/admin/audit-log?action=hide", &m)
        .await
        .json();
    assert_eq!(hides["items"].as_array().unwrap().len(), 1);
    // Eight entries: the five above and the cast's three roles.
    let first = app
        .get_as("/api/v1/admin/audit-log?limit=5", &m)
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get_as(
            &format!("/api/v1/admin/audit-log?limit=5&cursor={cursor}"),
            &m,
        )
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn user_administration_follows_the_roles() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let target = app.signed_up("target").await.user_id;
    let ban = json!({"reason": "spam"});
    let role = json!({"role": "editor"});
    let routes: Vec<(&str, String, Option<Value>, [u16; 5])> = vec![
        // anonymous, user, editor, moderator, admin
        (
            "GET",
            "/api/v1/admin/users?q=read".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/admin/users/{target}/ban"),
            Some(ban),
            [401, 403, 403, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/admin/users/{target}/unban"),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            "PUT",
            format!("/api/v1/admin/users/{target}/role"),
            Some(role),
            [401, 403, 403, 403, 200],
        ),
    ];
    for (method, path, body, expected) in &routes {
        let tokens = [
            None,
            Some(&cast.user),
            Some(&cast.editor),
            Some(&cast.moderator),
            Some(&cast.admin),
        ];
        for (token, status) in tokens.iter().zip(expected) {
            let res = app
                .send_json(
                    method,
                    path,
                    token.map(|t| t.access.as_str()),
                    body.as_ref(),
                )
                .await;
            assert_eq!(
                res.status,
                *status,
                "{method} {path} as {:?}: {}",
                token.map(|t| t.user_id),
                res.text()
            );
        }
    }
    // A plain user hears 403 whatever body it sends.
    for path in [
        format!("/api/v1/admin/users/{target}/ban"),
        "/api/v1/admin/reports/1/resolve".to_string(),
    ] {
        app.send_json("POST", &path, Some(&cast.user.access), Some(&json!({})))
            .await
            .problem(403);
    }
    app.send_json(
        "PUT",
        &format!("/api/v1/admin/users/{target}/role"),
        Some(&cast.moderator.access),
        Some(&json!({"role": 7})),
    )
    .await
    .problem(403);
    let found = app
        .get_as(
            "/api/v1/admin/users?q=READER@EXAMPLE",
            &cast.moderator.access,
        )
        .await
        .json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["username"], "reader");
    // Moderators may not act on moderators or admins; nobody on themselves.
    app.ban(
        &cast.moderator.access,
        cast.admin.user_id,
        &json!({"reason": "coup"}),
    )
    .await
    .problem(403);
    // The last admin cannot be demoted (once the first admin, who gave the cast its roles,
    // is a plain user again).
    let root = app.first_admin().await;
    let res = app.put_role(&cast.admin.access, root.user_id, "user").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let problem = app
        .put_role(&cast.admin.access, cast.admin.user_id, "user")
        .await
        .problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("last admin"));
    app.put_role(&cast.admin.access, target, "king")
        .await
        .problem(422);
}

#[actix_web::test]
async fn a_ban_acts_on_old_tokens_at_once_and_ends_by_itself() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let topic = app.topic(&cast.editor.access, "Ban").await;
    let until = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let res = app
        .ban(
            &cast.moderator.access,
            cast.user.user_id,
            &json!({"reason": "flooding", "until": until}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["banned"], true);
    // The token from before the ban: 403 at once, and its session is over.
    let problem = app
        .comment(&cast.user.access, topic, "still here?", None)
        .await
        .problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("banned"),
        "{problem}"
    );
    app.refresh(&cast.user.refresh).await.problem(401);
    app.login("reader", crate::helpers::PASSWORD)
        .await
        .problem(403);
    // After `until`, the ban is over by itself.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
    let again = Tokens::from(&app.login("reader", crate::helpers::PASSWORD).await);
    app.commented(&again.access, topic, "back", None).await;
    // A permanent ban, then an unban.
    app.ban(
        &cast.moderator.access,
        cast.user.user_id,
        &json!({"reason": "again"}),
    )
    .await;
    app.comment(&again.access, topic, "no", None)
        .await
        .problem(403);
    app.unban(&cast.moderator.access, cast.user.user_id).await;
    let fresh = Tokens::from(&app.login("reader", crate::helpers::PASSWORD).await);
    app.commented(&fresh.access, topic, "yes", None).await;
    let log = app
        .get_as(
            "/api/v1/admin/audit-log?target_type=user",
            &cast.moderator.access,
        )
        .await
        .json();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        // (The roles the test's cast was given by the first admin are in the log too.)
        .filter(|e| e["actor_username"] != "root")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["unban", "ban", "ban"], "{log}");
    app.ban(
        &cast.moderator.access,
        cast.user.user_id,
        &json!({"reason": "x", "until": "2001-01-01T00:00:00Z"}),
    )
    .await
    .problem(422);
}

#[actix_web::test]
async fn the_report_queue_groups_by_comment_and_resolving_closes_them_all() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let other = app.signed_up("other").await;
    let topic = app.topic(&cast.editor.access, "Queue").await;
    let rude = app
        .commented(&cast.editor.access, topic, "rude", None)
        .await;
    let spam = app
        .commented(&cast.editor.access, topic, "spam", None)
        .await;
    let fine = app
        .commented(&cast.editor.access, topic, "fine", None)
        .await;
    for (token, id, reason) in [
        (&cast.user, rude, "insults"),
        (&other, rude, "rude"),
        (&cast.user, spam, "spam"),
        (&other, fine, "I disagree"),
    ] {
        assert_eq!(app.report(&token.access, id, reason).await.status, 202);
    }
    let queue = app
        .get_as("/api/v1/admin/reports", &cast.moderator.access)
        .await;
    assert_eq!(queue.status, 200, "{}", queue.text());
    let queue = queue.json();
    let ids: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![rude, spam, fine], "oldest first: {queue}");
    assert_eq!(queue["items"][0]["report_count"], 2);
    assert_eq!(
        queue["items"][0]["reports"][1]["reporter_username"],
        "other"
    );
    assert_eq!(queue["items"][0]["discussion_title"], "Queue");
    let page = app
        .get_as("/api/v1/admin/reports?limit=2", &cast.moderator.access)
        .await
        .json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get_as(
            &format!("/api/v1/admin/reports?limit=2&cursor={cursor}"),
            &cast.moderator.access,
        )
        .await
        .json();
    assert_eq!(rest["items"][0]["comment"]["id"], fine);

    let resolve = |report: i64, action: &str| {
        let body = json!({ "action": action });
        let app = &app;
        let token = cast.moderator.access.clone();
        async move {
            app.send_json(
                "POST",
                &format!("/api/v1/admin/reports/{report}/resolve"),
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let first_report = queue["items"][0]["reports"][0]["id"].as_i64().unwrap();
    let res = resolve(first_report, "hide").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["reports_closed"],
        2,
        "both reports of the comment"
    );
    let spam_report = queue["items"][1]["reports"][0]["id"].as_i64().unwrap();
    assert_eq!(resolve(spam_report, "delete").await.status, 200);
    let fine_report = queue["items"][2]["reports"][0]["id"].as_i64().unwrap();
    assert_eq!(resolve(fine_report, "dismiss").await.status, 200);
    resolve(fine_report, "ban").await.problem(422);
    resolve(fine_report, "dismiss").await.problem(409);
    resolve(999_999, "dismiss").await.problem(404);

    let open = app
        .get_as("/api/v1/admin/reports", &cast.moderator.access)
        .await
        .json();
    assert_eq!(open["items"].as_array().unwrap().len(), 0, "{open}");
    let resolved = app
        .get_as(
            "/api/v1/admin/reports?status=resolved",
            &cast.moderator.access,
        )
        .await
        .json();
    assert_eq!(resolved["items"].as_array().unwrap().len(), 3);
    let page = app.comments(topic, "").await.json();
    let statuses: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["hidden", "deleted", "visible"]);
    app.assert_counters_match_a_recount();
    app.get_as("/api/v1/admin/reports", &cast.user.access)
        .await
        .problem(403);
    app.get("/api/v1/admin/reports").await.problem(401);
}

#[actix_web::test]
async fn the_consoles_reads_show_context_accounts_discussions_and_dated_actions() {
    let app = TestApp::spawn().await;
    let cast = cast(&app).await;
    let mod_token = cast.moderator.access.as_str();
    let topic = app.topic(&cast.user.access, "Rocket launch moved").await;
    let writer = app.signed_up("writer").await;
    let parent = app
        .commented(&cast.user.access, topic, "When is the launch?", None)
        .await;
    let reply = app
        .commented(&writer.access, topic, "Never, fools", Some(parent))
        .await;
    assert_eq!(
        app.report(&cast.user.access, reply, "rude").await.status,
        202
    );

    // The queue carries the parent, and an ETag that holds while nothing changes.
    let queue = app.get_as("/api/v1/admin/reports", mod_token).await;
    let item = &queue.json()["items"][0];
    assert_eq!(item["parent"]["body"], "When is the launch?", "{item}");
    let tag = queue.header("etag").unwrap().to_string();
    let again = app
        .send(
            app.client
                .get(app.url("/api/v1/admin/reports"))
                .insert_header(("Authorization", format!("Bearer {mod_token}")))
                .insert_header(("If-None-Match", tag.as_str())),
            None,
        )
        .await;
    assert_eq!(again.status, 304);

    // An account's page: its comments (hidden too) and the actions on it.
    assert_eq!(
        app.moderate_comment(mod_token, reply, "hide", None)
            .await
            .status,
        200
    );
    let ban = json!({"reason": "rude again"});
    assert_eq!(app.ban(mod_token, writer.user_id, &ban).await.status, 200);
    let profile = app
        .get_as(
            &format!("/api/v1/admin/users/{}", writer.user_id),
            mod_token,
        )
        .await;
    assert_eq!(profile.status, 200, "{}", profile.text());
    let profile = profile.json();
    assert_eq!(profile["user"]["banned"], true);
    assert_eq!(profile["recent_comments"][0]["body"], "Never, fools");
    assert_eq!(profile["recent_comments"][0]["status"], "hidden");
    assert_eq!(profile["actions"][0]["action"], "ban");
    assert_eq!(profile["actions"][0]["reason"], "rude again");
    let path = format!("/api/v1/admin/users/{}", writer.user_id);
    assert_eq!(app.get_as(&path, &cast.user.access).await.status, 403);
    app.get_as("/api/v1/admin/users/999999", mod_token)
        .await
        .problem(404);

    // Discussions by a word of the title in another form; the last active without one.
    let found = app
        .get_as("/api/v1/admin/discussions?q=rockets", mod_token)
        .await
        .json();
    assert_eq!(found["items"][0]["id"], topic, "{found}");
    assert_eq!(found["items"][0]["locked"], false);
    // A scheduled article is found too (readers' searches do not see it yet).
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let article = app
        .create_article(
            &cast.editor.access,
            &json!({"title": "Rocket plans for spring", "lead": "L.", "body": "B.", "published_at": later}),
        )
        .await;
    assert_eq!(article.status, 201, "{}", article.text());
    let scheduled = article.json()["discussion_id"].as_i64().unwrap();
    let found = app
        .get_as("/api/v1/admin/discussions?q=rocket", mod_token)
        .await
        .json();
    let ids: Vec<i64> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&topic) && ids.contains(&scheduled), "{found}");
    let recent = app
        .get_as("/api/v1/admin/discussions", &cast.editor.access)
        .await
        .json();
    let listed = recent["items"].as_array().unwrap();
    assert!(
        listed.iter().any(|d| d["id"] == topic),
        "editors see the list: {recent}"
    );
    let status = app
        .get_as("/api/v1/admin/discussions", &cast.user.access)
        .await
        .status;
    assert_eq!(status, 403);
    app.get_as("/api/v1/admin/discussions?q=%22%22", mod_token)
        .await
        .problem(422);

    // The audit log by date.
    let day = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let count = |res: crate::helpers::Response| res.json()["items"].as_array().unwrap().len();
    let all = count(app.get_as("/api/v1/admin/audit-log", mod_token).await);
    assert!(all >= 2);
    let since_yesterday = format!("/api/v1/admin/audit-log?since={}", day(-1));
    assert_eq!(count(app.get_as(&since_yesterday, mod_token).await), all);
    let since_tomorrow = format!("/api/v1/admin/audit-log?since={}", day(1));
    assert_eq!(count(app.get_as(&since_tomorrow, mod_token).await), 0);
    let until_yesterday = format!("/api/v1/admin/audit-log?until={}", day(-1));
    assert_eq!(count(app.get_as(&until_yesterday, mod_token).await), 0);
    app.get_as("/api/v1/admin/audit-log?since=yesterday", mod_token)
        .await
        .problem(400);
}
