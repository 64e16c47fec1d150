//! Premoderation: word rules (reject, hold, folding), held comments seen only by their author
//! and moderators, the queue, approval as if just posted, rejection, bulk decisions, the
//! per-discussion switch, and the holds for new accounts.

use serde_json::{Value, json};

use crate::helpers::{Response, TestApp, Tokens};

impl TestApp {
    pub async fn add_word_rule(&self, token: &str, rule: &Value) -> Response {
        self.send_json("POST", "/api/v1/admin/word-rules", Some(token), Some(rule))
            .await
    }

    pub async fn pending(&self, token: &str) -> Value {
        let res = self.get_as("/api/v1/admin/pending", token).await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    }

    pub async fn decide(
        &self,
        token: &str,
        id: i64,
        decision: &str,
        body: Option<&Value>,
    ) -> Response {
        let path = format!("/api/v1/admin/pending/{id}/{decision}");
        self.send_json("POST", &path, Some(token), body).await
    }

    /// Posts a comment that must be held; its id.
    pub async fn held(&self, token: &str, discussion: i64, body: &str, parent: Option<i64>) -> i64 {
        let res = self.comment(token, discussion, body, parent).await;
        assert_eq!(res.status, 202, "{}", res.text());
        let comment = res.json();
        assert_eq!(comment["status"], "pending", "{comment}");
        assert_eq!(comment["body"], body, "its author sees what they wrote");
        comment["id"].as_i64().unwrap()
    }
}

/// The ids of every comment of a thread's first page, nested ones too, as `who` sees them.
async fn thread_ids(app: &TestApp, topic: i64, who: Option<&Tokens>) -> Vec<(i64, String)> {
    let path = format!("/api/v1/discussions/{topic}/comments");
    let res = match who {
        Some(who) => app.get_as(&path, &who.access).await,
        None => app.get(&path).await,
    };
    assert_eq!(res.status, 200, "{}", res.text());
    fn walk(items: &Value, out: &mut Vec<(i64, String)>) {
        for item in items.as_array().unwrap() {
            out.push((
                item["id"].as_i64().unwrap(),
                item["status"].as_str().unwrap().to_string(),
            ));
            walk(&item["children"], out);
        }
    }
    let mut out = Vec::new();
    walk(&res.json()["items"], &mut out);
    out
}

async fn replies(app: &TestApp, topic: i64) -> (i64, String) {
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    (
        discussion["replies"].as_i64().unwrap(),
        discussion["last_activity_at"].as_str().unwrap().to_string(),
    )
}

#[actix_web::test]
async fn word_rules_refuse_or_hold_whole_words_whatever_the_letters() {
    let app = TestApp::spawn().await;
    let admin = app.with_role("chief", "admin").await;
    let moderator = app.with_role("mod", "moderator").await;
    let reader = app.signed_up("reader").await;
    let topic = app.topic(&reader.access, "Погода").await;

    // Admins only; the phrase must have a word; the action must be one.
    let rule = json!({"phrase": "дурак", "action": "reject", "reason": "Без оскорблений"});
    assert_eq!(
        app.add_word_rule(&moderator.access, &rule).await.status,
        403
    );
    assert_eq!(app.add_word_rule(&reader.access, &rule).await.status, 403);
    let problem = app
        .add_word_rule(
            &admin.access,
            &json!({"phrase": " !!! ", "action": "reject"}),
        )
        .await
        .problem(422);
    assert!(problem.to_string().contains("phrase"), "{problem}");
    app.add_word_rule(&admin.access, &json!({"phrase": "x", "action": "ban"}))
        .await
        .problem(422);
    let created = app.add_word_rule(&admin.access, &rule).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let reject_id = created.json()["id"].as_i64().unwrap();
    // The same phrase in other letters is the same rule.
    let again = json!({"phrase": "ДУРAК", "action": "hold"});
    app.add_word_rule(&admin.access, &again).await.problem(409);

    // Refused with the rule's public reason, never the word: Latin `a`, capitals, `ё` folded.
    for text in ["ты дурaк", "Ну ДУРАК же", "дурак!"] {
        let problem = app
            .comment(&reader.access, topic, text, None)
            .await
            .problem(422);
        let message = problem.to_string();
        assert!(message.contains("Без оскорблений"), "{message}");
        assert!(!message.to_lowercase().contains("дурак"), "{message}");
    }
    // Whole words only.
    app.commented(&reader.access, topic, "дураки и дороги", None)
        .await;
    // Topics too, and edits.
    let res = app.create_topic(&reader.access, "Ты дурак", "текст").await;
    res.problem(422);
    let own = app.commented(&reader.access, topic, "мирно", None).await;
    app.edit_comment(&reader.access, own, "уже дурак")
        .await
        .problem(422);

    // A hold rule: accepted (202), pending, seen only by its author and moderators.
    let hold = json!({"phrase": "ёлки палки", "action": "hold"});
    let hold_id = app.add_word_rule(&admin.access, &hold).await.json()["id"]
        .as_i64()
        .unwrap();
    let before = replies(&app, topic).await;
    let held = app
        .held(&reader.access, topic, "Елки-палки, какой дождь", None)
        .await;
    assert_eq!(
        replies(&app, topic).await,
        before,
        "held comments count nowhere"
    );
    assert!(
        !thread_ids(&app, topic, None)
            .await
            .iter()
            .any(|(id, _)| *id == held)
    );
    let other = app.signed_up("other").await;
    assert!(
        !thread_ids(&app, topic, Some(&other))
            .await
            .iter()
            .any(|(id, _)| *id == held)
    );
    assert!(
        thread_ids(&app, topic, Some(&reader))
            .await
            .contains(&(held, "pending".to_string()))
    );
    assert!(
        thread_ids(&app, topic, Some(&moderator))
            .await
            .contains(&(held, "pending".to_string()))
    );
    assert_eq!(
        app.get(&format!("/api/v1/comments/{held}")).await.status,
        404
    );
    let own_view = app
        .get_as(&format!("/api/v1/comments/{held}"), &reader.access)
        .await;
    assert_eq!(own_view.json()["status"], "pending", "{}", own_view.text());
    // No replies to it, no votes or reports from others (it does not exist for them).
    app.comment(&other.access, topic, "reply", Some(held))
        .await
        .problem(422);
    assert_eq!(app.vote(&other.access, held, 1).await.status, 404);
    assert_eq!(app.report(&other.access, held, "spam").await.status, 404);
    // Search does not find it.
    let found = app
        .get("/api/v1/search?q=%D0%B4%D0%BE%D0%B6%D0%B4%D1%8C")
        .await
        .json();
    assert_eq!(found["items"].as_array().unwrap().len(), 0, "{found}");
    // An edit cannot add held words either.
    app.edit_comment(&reader.access, own, "ёлки палки")
        .await
        .problem(422);

    // The queue names the rule.
    let queue = app.pending(&moderator.access).await;
    let entry = &queue["items"][0];
    assert_eq!(entry["comment"]["id"], held, "{queue}");
    assert_eq!(entry["reason"], "word_rule");
    assert_eq!(entry["rule"]["id"], hold_id);
    assert_eq!(entry["rule"]["phrase"], "ёлки палки");
    assert_eq!(entry["discussion_id"], topic);

    // Rules are listed and deleted (audited); a deleted rule refuses nothing.
    let rules = app
        .get_as("/api/v1/admin/word-rules", &admin.access)
        .await
        .json();
    assert_eq!(rules["items"].as_array().unwrap().len(), 2, "{rules}");
    let path = format!("/api/v1/admin/word-rules/{reject_id}");
    let res = app
        .send_json("DELETE", &path, Some(&admin.access), None)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.send_json("DELETE", &path, Some(&admin.access), None)
        .await
        .problem(404);
    app.commented(&reader.access, topic, "ты дурак", None).await;
    let log = app
        .get_as(
            "/api/v1/admin/audit-log?target_type=word_rule",
            &admin.access,
        )
        .await
        .json();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "add", "add"], "{log}");
}

#[actix_web::test]
async fn approval_publishes_as_if_just_posted_and_rejection_never_does() {
    let app = TestApp::spawn().await;
    let moderator = app.with_role("mod", "moderator").await;
    let starter = app.signed_up("starter").await;
    let reader = app.signed_up("reader").await;
    let topic = app.topic(&starter.access, "Выборы").await;
    let published = app.commented(&starter.access, topic, "first", None).await;

    // The switch: moderators only; the discussion says so.
    let path = format!("/api/v1/admin/discussions/{topic}/premoderate");
    assert_eq!(
        app.send_json("POST", &path, Some(&reader.access), None)
            .await
            .status,
        403
    );
    let on = app
        .send_json("POST", &path, Some(&moderator.access), None)
        .await;
    assert_eq!(on.json()["premoderated"], true, "{}", on.text());

    let before = replies(&app, topic).await;
    let first = app
        .held(&reader.access, topic, "a reply", Some(published))
        .await;
    let second = app.held(&reader.access, topic, "another", None).await;
    let third = app.held(&reader.access, topic, "a third", None).await;
    // Moderators are never held.
    app.commented(&moderator.access, topic, "moderator here", None)
        .await;
    let after_moderator = replies(&app, topic).await;
    assert_eq!(after_moderator.0, before.0 + 1);

    let queue = app.pending(&moderator.access).await;
    let items = queue["items"].as_array().unwrap();
    let ids: Vec<i64> = items
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [first, second, third], "oldest first: {queue}");
    assert_eq!(items[0]["reason"], "discussion");
    assert_eq!(items[0]["author"]["approved"], 0);
    assert_eq!(items[0]["author"]["account_age_days"], 0);
    // Held comments are decided in the queue, not hidden or restored.
    for action in ["hide", "restore"] {
        let path = format!("/api/v1/admin/comments/{first}/{action}");
        app.send_json("POST", &path, Some(&moderator.access), None)
            .await
            .problem(409);
    }
    // Pages of the queue.
    let page = app
        .get_as("/api/v1/admin/pending?limit=2", &moderator.access)
        .await
        .json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get_as(
            &format!("/api/v1/admin/pending?limit=2&cursor={cursor}"),
            &moderator.access,
        )
        .await
        .json();
    assert_eq!(rest["items"][0]["comment"]["id"], third, "{rest}");
    assert!(rest["next_cursor"].is_null());

    // Approving: refused to readers; publishes with counters, activity and notifications.
    assert_eq!(
        app.decide(&reader.access, first, "approve", None)
            .await
            .status,
        403
    );
    let approved = app.decide(&moderator.access, first, "approve", None).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "visible");
    let now = replies(&app, topic).await;
    assert_eq!(now.0, after_moderator.0 + 1);
    assert!(now.1 >= after_moderator.1, "the discussion moves: {now:?}");
    assert!(
        thread_ids(&app, topic, None)
            .await
            .contains(&(first, "visible".to_string()))
    );
    let inbox = app
        .get_as("/api/v1/me/notifications", &starter.access)
        .await
        .json();
    let about_first = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["place"]["comment_id"] == first && n["kind"] == "reply");
    assert!(about_first, "the replied-to author hears of it: {inbox}");
    // Once only.
    app.decide(&moderator.access, first, "approve", None)
        .await
        .problem(409);

    // Rejecting: never published; the author is told; audited with the reason.
    let why = json!({"reason": "off topic"});
    let rejected = app
        .decide(&moderator.access, second, "reject", Some(&why))
        .await;
    assert_eq!(rejected.json()["status"], "rejected", "{}", rejected.text());
    assert!(
        !thread_ids(&app, topic, Some(&reader))
            .await
            .iter()
            .any(|(id, _)| *id == second)
    );
    assert_eq!(replies(&app, topic).await.0, now.0);
    let told = app
        .get_as("/api/v1/me/notifications", &reader.access)
        .await
        .json();
    assert!(
        told["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["place"]["comment_id"] == second),
        "{told}"
    );
    let log = app
        .get_as("/api/v1/admin/audit-log?action=reject", &moderator.access)
        .await
        .json();
    assert_eq!(log["items"][0]["target_id"], second, "{log}");
    assert_eq!(log["items"][0]["reason"], "off topic");

    // In bulk: each decided on its own; what does not wait is skipped.
    let fourth = app.held(&reader.access, topic, "a fourth", None).await;
    let bulk = json!({"ids": [third, fourth, second, 99_999_999], "action": "approve"});
    let res = app
        .send_json(
            "POST",
            "/api/v1/admin/pending/resolve",
            Some(&moderator.access),
            Some(&bulk),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let outcome = res.json();
    assert_eq!(outcome["resolved"], json!([third, fourth]), "{outcome}");
    let skipped: Vec<i64> = outcome["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(skipped, [second, 99_999_999]);
    for bad in [
        json!({"ids": [], "action": "approve"}),
        json!({"ids": [1], "action": "maybe"}),
    ] {
        app.send_json(
            "POST",
            "/api/v1/admin/pending/resolve",
            Some(&moderator.access),
            Some(&bad),
        )
        .await
        .problem(422);
    }
    assert_eq!(app.pending(&moderator.access).await["items"], json!([]));
    let queue_after = app.pending(&moderator.access).await;
    assert!(queue_after["next_cursor"].is_null());

    // Switched off: published at once again.
    let off = app
        .send_json("DELETE", &path, Some(&moderator.access), None)
        .await;
    assert_eq!(off.json()["premoderated"], false, "{}", off.text());
    app.commented(&reader.access, topic, "free again", None)
        .await;
}

#[actix_web::test]
async fn new_accounts_wait_until_trusted_and_an_author_may_delete_what_waits() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_HOLD_FIRST_COMMENTS", "2"),
        ("TRIBUNE_HOLD_LINKS_DAYS", "7"),
        ("TRIBUNE_TRUSTED_AFTER_APPROVED", "1"),
    ])
    .await;
    let moderator = app.with_role("mod", "moderator").await;
    let newcomer = app.signed_up("newcomer").await;
    let topic = app.topic(&moderator.access, "Новости").await;
    let first = app.held(&newcomer.access, topic, "hello", None).await;
    let queue = app.pending(&moderator.access).await;
    assert_eq!(queue["items"][0]["reason"], "first_comments", "{queue}");
    app.decide(&moderator.access, first, "approve", None).await;
    // One approved and none rejected: trusted, so neither hold applies any more.
    app.commented(&newcomer.access, topic, "see https://example.com", None)
        .await;

    // Another newcomer: a rejection ends trust before it starts.
    let spammer = app.signed_up("spammer").await;
    let spam = app.held(&spammer.access, topic, "buy now", None).await;
    app.decide(&moderator.access, spam, "reject", None).await;
    let again = app
        .held(&spammer.access, topic, "buy now, please", None)
        .await;
    let queue = app.pending(&moderator.access).await;
    assert_eq!(queue["items"][0]["author"]["rejected"], 1, "{queue}");
    // An author may delete what waits; it leaves the queue.
    let res = app.delete_comment(&spammer.access, again).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(app.pending(&moderator.access).await["items"], json!([]));
    // It never shows in readers' threads, not even as a deleted one.
    let thread = thread_ids(&app, topic, Some(&moderator)).await;
    assert!(
        thread.contains(&(again, "rejected".to_string())),
        "{thread:?}"
    );
    let reader = app.signed_up("reader").await;
    let seen = thread_ids(&app, topic, Some(&reader)).await;
    assert!(!seen.iter().any(|(id, _)| *id == again), "{seen:?}");
    assert_eq!(
        app.get(&format!("/api/v1/comments/{again}")).await.status,
        404
    );
    // Nor does a rejected one its author deletes.
    let res = app.delete_comment(&spammer.access, spam).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(
        app.get(&format!("/api/v1/comments/{spam}")).await.status,
        404
    );
}

#[actix_web::test]
async fn links_from_young_accounts_wait_and_moderators_never_do() {
    let app = TestApp::spawn_with(&[("TRIBUNE_HOLD_LINKS_DAYS", "7")]).await;
    let moderator = app.with_role("mod", "moderator").await;
    let reader = app.signed_up("reader").await;
    let topic = app.topic(&reader.access, "Links").await;
    app.commented(&reader.access, topic, "no link at all", None)
        .await;
    let held = app
        .held(
            &reader.access,
            topic,
            "look: [this](https://example.com)",
            None,
        )
        .await;
    let queue = app.pending(&moderator.access).await;
    assert_eq!(queue["items"][0]["comment"]["id"], held);
    assert_eq!(queue["items"][0]["reason"], "new_account_link");
    app.commented(&moderator.access, topic, "www.example.com is fine", None)
        .await;
}
