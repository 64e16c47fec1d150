//! Abuse resistance, tried as an attacker would: each test here failed on the code before the
//! control it proves (docs/security.md names the test of each threat).

use std::time::Duration;

use actix_web::web::Bytes;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Response, TestApp, TestDb, test_settings};

/// A login sent through the trusted proxy (127.0.0.1) for a client at `ip`.
async fn login_from(app: &TestApp, ip: &str, login: &str, password: &str) -> Response {
    let request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .insert_header(("X-Forwarded-For", ip))
        .insert_header(("Content-Type", "application/json"));
    let body = json!({"login": login, "password": password}).to_string();
    app.send(request, Some(body.into())).await
}

fn series(metrics: &str, name: &str) -> usize {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .count()
}

#[actix_web::test]
async fn made_up_methods_add_no_metric_series() {
    let app = TestApp::spawn().await;
    let send = |method: String| {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        app.send(app.client.request(method, app.url("/healthz")), None)
    };
    send("X0".into()).await;
    app.metrics().await; // the scrape's own series
    let before = app.metrics().await.text();
    for n in 1..=1000 {
        let res = send(format!("X{n}")).await;
        assert!(res.status < 500, "{}", res.status);
    }
    let after = app.metrics().await.text();
    let name = "tribune_http_requests_total";
    assert!(series(&before, name) > 0, "{before}");
    assert_eq!(series(&before, name), series(&after, name), "{after}");
    assert!(after.contains("method=\"OTHER\""), "{after}");
}

#[actix_web::test]
async fn failed_logins_from_one_address_are_throttled() {
    // Every auth request counts too (`TRIBUNE_AUTH_RATE`): at 10, only a count shared by the
    // processes refuses the 11th.
    let limits = [
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
        ("TRIBUNE_AUTH_RATE", "10"),
    ];
    let app = TestApp::spawn_with(&limits).await;
    let other = app.another_process(&limits).await;
    app.signed_up("anna").await;
    // Ten failures, over several accounts and none, through two processes of the site: all
    // counted for the address.
    for n in 0..10 {
        let login = if n % 2 == 0 { "anna" } else { "nobody" };
        let process = if n < 5 { &app } else { &other };
        login_from(process, "198.51.100.7", login, "wrong-guess-here")
            .await
            .problem(401);
    }
    let res = login_from(&app, "198.51.100.7", "anna", "wrong-guess-here").await;
    res.problem(429);
    // Until the failures of the last minute, weighed by how much of them is still within a
    // minute, leave room for one more: at most a little over a minute.
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=120).contains(&wait), "{wait}");
    // The owner, elsewhere, is not held back.
    assert_eq!(
        login_from(&app, "203.0.113.20", "anna", PASSWORD)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn an_attacker_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
        ("TRIBUNE_LOGIN_FAILURE_RATE", "1000"),
        ("TRIBUNE_LOGIN_FAILURES_PER_HOUR", "3"),
    ])
    .await;
    app.signed_up("anna").await;
    for _ in 0..3 {
        login_from(&app, "192.0.2.66", "anna", "wrong-guess-here")
            .await
            .problem(401);
    }
    // The attacker's address is stopped on this account, even with the right password...
    login_from(&app, "192.0.2.66", "anna", "wrong-guess-here")
        .await
        .problem(429);
    // ... and from another address the owner signs in as ever.
    assert_eq!(
        login_from(&app, "198.51.100.7", "anna", PASSWORD)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn known_and_unknown_logins_throttle_alike() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
        ("TRIBUNE_LOGIN_FAILURE_RATE", "1000"),
        ("TRIBUNE_LOGIN_FAILURES_PER_HOUR", "2"),
    ])
    .await;
    app.signed_up("anna").await;
    let mut answers: Vec<Vec<(u16, Value)>> = Vec::new();
    for (ip, login) in [("192.0.2.1", "anna"), ("192.0.2.2", "nobody-at-all")] {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let res = login_from(&app, ip, login, "wrong-guess-here").await;
            // (A 429 says how many seconds to wait, which moves with the clock.)
            let mut body = res.json();
            if let Some(detail) = body["detail"].as_str() {
                body["detail"] = detail.replace(|c: char| c.is_ascii_digit(), "").into();
            }
            seen.push((res.status, body));
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    let statuses: Vec<u16> = answers[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [401, 401, 429, 429]);
}

#[actix_web::test]
async fn every_forwarded_for_line_counts_and_ipv6_clients_share_their_64() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
        ("TRIBUNE_LOGIN_FAILURE_RATE", "3"),
        ("TRIBUNE_AUTH_RATE", "3"),
    ])
    .await;
    // A client that forges a first line of its own; the proxy adds the real one as a second.
    let forged = |n: u32| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .append_header(("X-Forwarded-For", format!("6.6.6.{n}")))
            .append_header(("X-Forwarded-For", "198.51.100.9"))
            .insert_header(("Content-Type", "application/json"));
        let body = json!({"login": "someone", "password": "wrong-guess-here"}).to_string();
        app.send(request, Some(Bytes::from(body)))
    };
    for n in 0..3 {
        forged(n).await.problem(401);
    }
    forged(3).await.problem(429);

    // Addresses of one /64 are one client.
    for n in 1..=3 {
        login_from(
            &app,
            &format!("2001:db8:7:8::{n}"),
            "someone",
            "wrong-guess-here",
        )
        .await
        .problem(401);
    }
    login_from(&app, "2001:db8:7:8:ffff::1", "someone", "wrong-guess-here")
        .await
        .problem(429);
    login_from(&app, "2001:db8:7:9::1", "someone", "wrong-guess-here")
        .await
        .problem(401);
}

#[actix_web::test]
async fn live_streams_are_capped_and_end_by_themselves() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
        ("TRIBUNE_STREAMS_PER_CLIENT", "2"),
        ("TRIBUNE_STREAMS_MAX", "3"),
        ("TRIBUNE_STREAM_LIFETIME_SECONDS", "2"),
    ])
    .await;
    let open_stream = |_: &TestApp, ip: &'static str| {
        app.client
            .get(app.url("/api/v1/discussions/stream"))
            .insert_header(("X-Forwarded-For", ip))
            .send()
    };
    let first = open_stream(&app, "198.51.100.1").await.unwrap();
    let second = open_stream(&app, "198.51.100.1").await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let mut third = open_stream(&app, "198.51.100.1").await.unwrap();
    assert_eq!(third.status(), 429);
    let body = third.body().await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("rate-limited"));
    let mut other = open_stream(&app, "198.51.100.2").await.unwrap();
    assert_eq!(other.status(), 200);
    let full = open_stream(&app, "198.51.100.3").await.unwrap();
    assert_eq!(full.status(), 503);
    let metrics = app.metrics().await.text();
    assert!(metrics.contains("tribune_live_streams 3"), "{metrics}");

    // Past its lifetime a stream ends, telling the browser to come back.
    let text = other.body().limit(1 << 20).await.unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(text.ends_with("reconnect\n\n"), "{text}");
    assert!(text.contains("retry: 1000"), "{text}");
    drop((first, second));
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        open_stream(&app, "198.51.100.3").await.unwrap().status(),
        200
    );
}

#[actix_web::test]
async fn writes_are_limited_for_the_site_not_per_process() {
    let limits = [
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_TOPIC_RATE", "2"),
        ("TRIBUNE_VOTE_RATE", "2"),
        ("TRIBUNE_WRITE_RATE", "2"),
    ];
    let one = TestApp::spawn_with(&limits).await;
    let two = one.another_process(&limits).await;
    let anna = one.signed_up("anna").await;
    let boris = one.signed_up("boris").await;
    // Topics: one through each process, the third refused whichever serves it.
    let topic = one.topic(&anna.access, "First").await;
    two.topic(&anna.access, "Second").await;
    let res = one.create_topic(&anna.access, "Third", "Body").await;
    res.problem(429);
    assert!(res.header("retry-after").is_some());
    // Editing counts too.
    let edit = json!({"title": "Edited"});
    two.send_json(
        "PATCH",
        &format!("/api/v1/discussions/{topic}"),
        Some(&anna.access),
        Some(&edit),
    )
    .await
    .problem(429);
    // Votes likewise.
    let id = one.commented(&anna.access, topic, "Vote on me", None).await;
    assert_eq!(one.vote(&boris.access, id, 1).await.status, 200);
    assert_eq!(two.vote(&boris.access, id, -1).await.status, 200);
    one.vote(&boris.access, id, 1).await.problem(429);
    // Staff are not held back.
    let moderator = one.with_role("mod", "moderator").await;
    for n in 0..3 {
        let res = two
            .create_topic(&moderator.access, &format!("Notice {n}"), "Body")
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
}

/// The `.eml` files the test's server wrote, once `count` are there.
async fn mails_in(app: &TestApp, count: usize) -> Vec<String> {
    let dir = app.db.dir().join("mail");
    for _ in 0..100 {
        let mails: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= count {
            return mails;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{count} mails did not come");
}

#[actix_web::test]
async fn a_get_of_the_confirmation_link_confirms_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.subscribe("reader@example.com").await.status, 202);
    let mail = &mails_in(&app, 1).await[0];
    let token = crate::smtp::token_in(mail);
    let link = format!("/api/v1/newsletter/confirm?token={token}");
    for _ in 0..3 {
        let page = app.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(!page.text().contains("<script"), "{}", page.text());
        assert!(page.text().contains("method=\"post\""), "{}", page.text());
        assert!(
            page.header("content-security-policy")
                .is_some_and(|csp| csp.contains("default-src 'none'"))
        );
    }
    assert_eq!(app.subscriber_status("reader@example.com"), "pending");
    let res = app.press_page_button(&link).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.subscriber_status("reader@example.com"), "confirmed");
}

#[actix_web::test]
async fn no_usable_token_stays_in_the_outbox_once_sent() {
    let app = TestApp::spawn().await;
    app.signed_up("forgetful").await;
    assert_eq!(
        app.password_reset("forgetful@example.com").await.status,
        202
    );
    assert_eq!(app.subscribe("reader@example.com").await.status, 202);
    let mails = mails_in(&app, 2).await;
    // Let the worker record both as sent.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE status = 'sent'"),
        2
    );
    for mail in &mails {
        let token = crate::smtp::token_in(mail);
        let found = app.number(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE body_text LIKE '%{token}%' \
             OR body_html LIKE '%{token}%'"
        ));
        assert_eq!(found, 0, "the token of a sent mail is still in the outbox");
    }
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE secret IS NOT NULL"),
        0
    );
    // And the links in the mails work.
    let reset = mails.iter().find(|m| m.contains("reset-password")).unwrap();
    let res = app
        .password_reset_confirm(&crate::smtp::token_in(reset), "a-new-violet-lantern-7")
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
}

#[actix_web::test]
async fn purge_removes_what_is_past_its_retention() {
    let app = TestApp::spawn().await;
    let tokens = app.signed_up("leaver").await;
    app.signed_up("stayer").await;
    assert_eq!(app.logout(&tokens.refresh).await.status, 204);
    assert_eq!(app.password_reset("stayer@example.com").await.status, 202);
    mails_in(&app, 1).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    // Forty days later.
    for (table, column) in [
        ("sessions", "revoked_at"),
        ("outbox", "sent_at"),
        ("outbox", "created_at"),
        ("password_resets", "created_at"),
        ("password_resets", "expires_at"),
    ] {
        app.age(table, column, 40 * 86_400);
    }
    let stdout = app.purge();
    assert!(stdout.contains("purged 1 sessions"), "{stdout}");
    for table in ["outbox", "password_resets"] {
        assert_eq!(
            app.number(&format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"
            )),
            0,
            "{table}"
        );
    }
    // The signed-up sessions that live on are kept.
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sessions"),
        1
    );
}

fn audit_entries(log: &Value) -> Vec<(String, String, i64, Option<String>)> {
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["target_type"].as_str().unwrap().to_string(),
                e["target_id"].as_i64().unwrap(),
                e["previous"].as_str().map(String::from),
            )
        })
        .collect()
}

#[actix_web::test]
async fn staff_changes_to_others_content_are_audited() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let moderator = app.with_role("mod", "moderator").await;
    let editor = app.editor("editor1").await;
    let topic = app.topic(&anna.access, "Anna's topic").await;
    let comment = app
        .commented(&anna.access, topic, "Anna's words", None)
        .await;
    // Her own edit is not a staff action.
    assert_eq!(
        app.edit_comment(&anna.access, comment, "Anna's own words")
            .await
            .status,
        200
    );
    assert_eq!(
        app.edit_comment(&moderator.access, comment, "[edited]")
            .await
            .status,
        200
    );
    assert_eq!(
        app.delete_comment(&moderator.access, comment).await.status,
        204
    );
    let res = app
        .send_json(
            "PATCH",
            &format!("/api/v1/discussions/{topic}"),
            Some(&moderator.access),
            Some(&json!({"title": "Retitled"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let article =
        json!({"title": "Budget passed", "lead": "Lead.", "body": "Body.", "slug": "budget"});
    let created = app.create_article(&editor.access, &article).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let res = app
        .send_json(
            "PATCH",
            "/api/v1/articles/budget",
            Some(&editor.access),
            Some(&json!({"title": "Budget passed at last"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .send_json(
            "DELETE",
            "/api/v1/articles/budget",
            Some(&editor.access),
            None,
        )
        .await;
    assert_eq!(res.status, 204);

    let admin = app.with_role("boss", "admin").await;
    let log = app
        .get_as("/api/v1/admin/audit-log", &admin.access)
        .await
        .json();
    let entries = audit_entries(&log);
    let article_id = created.json()["id"].as_i64().unwrap();
    let find = |action: &str, target: &str, id: i64| {
        entries
            .iter()
            .find(|(a, t, i, _)| a == action && t == target && *i == id)
            .unwrap_or_else(|| panic!("no {action} of {target} {id}: {entries:?}"))
            .3
            .clone()
    };
    assert_eq!(
        find("edit", "comment", comment).as_deref(),
        Some("Anna's own words")
    );
    assert_eq!(
        find("delete", "comment", comment).as_deref(),
        Some("[edited]")
    );
    assert!(
        find("edit", "discussion", topic)
            .unwrap()
            .contains("Anna's topic")
    );
    assert_eq!(find("create", "article", article_id), None);
    assert!(
        find("update", "article", article_id)
            .unwrap()
            .contains("\"Budget passed\"")
    );
    assert!(
        find("delete", "article", article_id)
            .unwrap()
            .contains("Budget passed at last")
    );
    assert_eq!(
        entries.iter().filter(|(_, t, _, _)| t == "comment").count(),
        2,
        "the author's own edit is not audited: {entries:?}"
    );
}

#[actix_web::test]
async fn scheduled_articles_follow_the_role_in_the_database() {
    let app = TestApp::spawn().await;
    let admin = app.with_role("boss", "admin").await;
    let editor = app.editor("editor1").await;
    let leaver = app.editor("leaver").await;
    let article = json!({
        "title": "Embargoed", "lead": "Lead.", "body": "Body.", "slug": "embargoed",
        "published_at": "2099-01-01T06:00:00Z",
    });
    let created = app.create_article(&editor.access, &article).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let discussion = created.json()["discussion_id"].as_i64().unwrap();
    let reads = [
        "/api/v1/articles/embargoed".to_string(),
        format!("/api/v1/discussions/{discussion}"),
        format!("/api/v1/discussions/{discussion}/comments"),
    ];
    for path in &reads {
        for who in [&editor, &leaver] {
            assert_eq!(app.get_as(path, &who.access).await.status, 200, "{path}");
        }
    }
    // One is demoted, the other logs out; their access tokens still say "editor".
    let res = app
        .send_json(
            "PUT",
            &format!("/api/v1/admin/users/{}/role", editor.user_id),
            Some(&admin.access),
            Some(&json!({"role": "user"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.logout(&leaver.refresh).await.status, 204);
    for path in &reads {
        for who in [&editor, &leaver] {
            app.get_as(path, &who.access).await.problem(404);
        }
    }
}

#[actix_web::test]
async fn a_subscription_belongs_to_whoever_asked_for_the_mailed_token() {
    let app = TestApp::spawn().await;
    // The owner of the mailbox subscribes, without an account.
    assert_eq!(app.subscribe("paula@example.com").await.status, 202);
    let token = crate::smtp::token_in(&mails_in(&app, 1).await[0]);
    // Someone registers an account on that address (emails are not verified) and asks too.
    let mallory = app
        .register(
            &json!({"username": "mallory", "email": "paula@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(mallory.status, 201);
    let mallory = crate::helpers::Tokens::from(&mallory);
    let res = app
        .send_json(
            "PUT",
            "/api/v1/me/newsletter",
            Some(&mallory.access),
            Some(&json!({"subscribed": true})),
        )
        .await;
    assert_eq!(res.json()["status"], "pending");
    // Paula uses the link of her own request.
    let res = app
        .post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // Mallory owns nothing and cannot end Paula's subscription.
    let mine = app
        .get_as("/api/v1/me/newsletter", &mallory.access)
        .await
        .json();
    assert_eq!(mine["status"], "none", "{mine}");
    app.send_json(
        "PUT",
        "/api/v1/me/newsletter",
        Some(&mallory.access),
        Some(&json!({"subscribed": false})),
    )
    .await;
    assert_eq!(app.subscriber_status("paula@example.com"), "confirmed");
}

#[actix_web::test]
async fn a_made_up_reset_token_is_refused_before_any_hashing() {
    let app = TestApp::spawn().await;
    // A weak password too: the token is what is checked first (and no hash is made for it).
    let res = app
        .password_reset_confirm(&"0".repeat(64), "password")
        .await;
    let problem = res.problem(422);
    assert!(problem["errors"]["token"].is_array(), "{problem}");
    assert!(problem["errors"].get("password").is_none(), "{problem}");
}

fn outbox_count(app: &TestApp, prefix: &str) -> i64 {
    app.number(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE dedup_key LIKE '{prefix}%'"
    ))
}

#[actix_web::test]
async fn mail_to_one_address_backs_off_and_stops_for_the_day() {
    let app = TestApp::spawn().await;
    app.signed_up("target").await;
    let reset = || app.password_reset("target@example.com");
    assert_eq!(reset().await.status, 202);
    // 90 s later: the second (a minute after the first); 90 s more: not the third (two minutes).
    app.age("password_resets", "created_at", 90);
    assert_eq!(reset().await.status, 202);
    app.age("password_resets", "created_at", 90);
    assert_eq!(reset().await.status, 202);
    assert_eq!(outbox_count(&app, "password-reset:"), 2);
    // However long one waits between them (an hour: longer than the gaps get), five a day.
    for _ in 0..8 {
        app.age("password_resets", "created_at", 3600);
        assert_eq!(reset().await.status, 202);
    }
    assert_eq!(outbox_count(&app, "password-reset:"), 5);

    // Confirmations likewise: every 10 minutes at first, then less often, five a day.
    for _ in 0..10 {
        assert_eq!(app.subscribe("victim@example.com").await.status, 202);
        app.age("newsletter_subscribers", "confirm_sent_at", 3 * 3600);
    }
    assert_eq!(outbox_count(&app, "newsletter-confirm:"), 5);
}

#[actix_web::test]
async fn comments_cannot_embed_remote_images() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Pictures").await;
    for attack in [
        "![pixel](https://tracker.example/p.png)",
        "<img src=\"https://tracker.example/q.png\"> hello",
        "[![x](https://tracker.example/r.png)](https://example.com)",
        "<picture><source srcset=\"https://tracker.example/s.png\"></picture> hi",
    ] {
        let res = app.comment(&anna.access, topic, attack, None).await;
        assert_eq!(res.status, 201, "{}", res.text());
        let html = res.json()["body_html"].as_str().unwrap().to_string();
        assert!(
            !html.contains("<img") && !html.contains("srcset"),
            "{attack} -> {html}"
        );
        assert!(
            !html.contains("q.png") && !html.contains("s.png"),
            "{attack} -> {html}"
        );
        if html.contains("<a ") {
            assert!(
                html.contains("rel=\"nofollow ugc noopener noreferrer\""),
                "{html}"
            );
        }
    }
}

#[actix_web::test]
async fn seed_refuses_a_database_with_accounts_of_its_own() {
    let db = TestDb::create();
    let settings = test_settings(&db, &[]);
    let app = TestApp::spawn_on(db, settings).await;
    app.signed_up("real-reader").await;
    let seed = |force: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"));
        command
            .env_clear()
            .env("TRIBUNE_CONFIG", "/dev/null")
            .env("DATABASE_URL", &app.db.url)
            .args([
                "seed",
                "--users",
                "2",
                "--discussions",
                "3",
                "--comments",
                "0",
            ]);
        if force {
            command.arg("--force");
        }
        command.output().unwrap()
    };
    let refused = seed(false);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("accounts of its own"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users"),
        1
    );
    assert!(seed(true).status.success());
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users"),
        3
    );
}

#[actix_web::test]
async fn dates_out_of_range_are_named_not_echoed() {
    let app = TestApp::spawn().await;
    let editor = app.editor("editor1").await;
    let article = json!({
        "title": "Ancient", "lead": "Lead.", "body": "Body.",
        "published_at": "-10000-01-01T00:00:00Z",
    });
    let problem = app
        .create_article(&editor.access, &article)
        .await
        .problem(422);
    assert!(problem["errors"]["published_at"].is_array(), "{problem}");
    let res = app.feed("?since=-10000-01-01T00:00:00Z").await;
    let problem = res.problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("since"), "{detail}");
    for database_words in ["timestamp", "out of range for", "SQL"] {
        assert!(!detail.contains(database_words), "{detail}");
    }
}

#[actix_web::test]
async fn what_validation_counts_as_text_is_stored_as_text() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Odd spaces").await;
    // U+0085 is not a space to the document's `\S` (nor to the rule), though Rust's trim
    // removes it: the comment keeps it rather than being stored empty.
    let res = app.comment(&anna.access, topic, "\u{85}", None).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["body"], "\u{85}");
}

#[actix_web::test]
async fn taking_back_a_pending_subscription_voids_its_link() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let on = json!({"subscribed": true});
    let off = json!({"subscribed": false});
    let res = app
        .send_json(
            "PUT",
            "/api/v1/me/newsletter",
            Some(&anna.access),
            Some(&on),
        )
        .await;
    assert_eq!(res.json()["status"], "pending");
    let token = crate::smtp::token_in(&mails_in(&app, 1).await[0]);
    let res = app
        .send_json(
            "PUT",
            "/api/v1/me/newsletter",
            Some(&anna.access),
            Some(&off),
        )
        .await;
    assert_eq!(res.json()["status"], "none", "{}", res.text());
    app.post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await
        .problem(422);
    assert_eq!(app.subscriber_status("anna@example.com"), "pending");
}

/// The mail rate is one for the whole site: a slot taken through any connection (any process)
/// counts for all, and a second holds no more than the rate.
#[actix_web::test]
async fn the_mail_rate_is_shared_by_every_sender() {
    let app = TestApp::spawn().await;
    let (mut one, mut two) = (app.connection(), app.connection());
    for attempt in 0..5 {
        let key = format!("mail-test-{attempt}");
        let second = chrono::Utc::now().timestamp();
        let taken = [
            tribune::ratelimit::take_slot(&mut one, &key, 2).unwrap(),
            tribune::ratelimit::take_slot(&mut two, &key, 2).unwrap(),
            tribune::ratelimit::take_slot(&mut one, &key, 2).unwrap(),
        ];
        if chrono::Utc::now().timestamp() != second {
            continue; // a second began in between: try again
        }
        assert_eq!(taken, [true, true, false]);
        return;
    }
    panic!("never three slots within one second");
}
