use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, Tokens};

#[actix_web::test]
async fn register_signs_the_new_user_in() {
    let app = TestApp::spawn().await;
    let res = app
        .register(&json!({
            "username": "Иван_Петров",
            "email": "Ivan@Example.com",
            "password": PASSWORD,
            "display_name": "Иван Петров",
        }))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["username"], "Иван_Петров");
    assert_eq!(body["user"]["display_name"], "Иван Петров");
    assert_eq!(body["user"]["email"], "Ivan@Example.com");
    assert_eq!(body["user"]["role"], "user");
    assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(res.header("cache-control"), Some("no-store"));

    let tokens = Tokens::from(&res);
    let me = app.me(&tokens.access).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "Иван_Петров");
    assert_eq!(me.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn usernames_and_emails_are_unique_without_regard_to_case() {
    let app = TestApp::spawn().await;
    app.signed_up("olga").await;
    let res = app
        .register(&json!({"username": "OLGA", "email": "other@example.com", "password": PASSWORD}))
        .await;
    let problem = res.problem(409);
    assert!(problem["errors"]["username"].is_array(), "{problem}");

    let res = app
        .register(&json!({"username": "olga2", "email": "OLGA@example.COM", "password": PASSWORD}))
        .await;
    let problem = res.problem(409);
    assert!(problem["errors"]["email"].is_array(), "{problem}");
}

#[actix_web::test]
async fn invalid_fields_are_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let res = app
        .register(&json!({"username": "a b", "email": "not-an-email", "password": "short"}))
        .await;
    let problem = res.problem(422);
    for field in ["username", "email", "password"] {
        assert!(problem["errors"][field].is_array(), "{field}: {problem}");
    }
    let res = app
        .register(
            &json!({"username": "weakling", "email": "w@example.com", "password": "password1"}),
        )
        .await;
    let problem = res.problem(422);
    assert!(
        problem["errors"]["password"][0]
            .as_str()
            .unwrap()
            .contains("common"),
        "{problem}"
    );
    let res = app.register(&json!({"username": "nofields"})).await;
    let problem = res.problem(422);
    assert!(problem["errors"]["email"].is_array(), "{problem}");
    let res = app
        .register(&json!({"username": 5, "email": "x@example.com", "password": PASSWORD}))
        .await;
    assert!(res.problem(422)["errors"]["username"].is_array());
}

#[actix_web::test]
async fn login_by_username_or_email_and_identical_failures() {
    let app = TestApp::spawn().await;
    app.signed_up("petra").await;
    assert_eq!(app.login("petra", PASSWORD).await.status, 200);
    assert_eq!(app.login("PETRA@example.com", PASSWORD).await.status, 200);

    let wrong_password = app.login("petra", "not-the-password").await;
    let unknown_user = app.login("nobody-at-all", "not-the-password").await;
    wrong_password.problem(401);
    assert_eq!(wrong_password.body, unknown_user.body);
    assert_eq!(unknown_user.status, 401);
}

#[actix_web::test]
async fn a_refresh_token_works_once_and_its_reuse_ends_the_session() {
    let app = TestApp::spawn().await;
    let first = app.signed_up("reuse").await;
    let res = app.refresh(&first.refresh).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let second = Tokens::from(&res);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(app.me(&second.access).await.status, 200);

    // The spent token again: refused, and the session it belongs to ends.
    app.refresh(&first.refresh).await.problem(401);
    app.refresh(&second.refresh).await.problem(401);
    // Writes check the session at once.
    app.update_me(&second.access, &json!({"display_name": "x"}))
        .await
        .problem(401);
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let tokens = app.signed_up("leaver").await;
    assert_eq!(app.logout(&tokens.refresh).await.status, 204);
    app.refresh(&tokens.refresh).await.problem(401);
    // Unknown tokens: the same answer.
    assert_eq!(app.logout("0123").await.status, 204);
}

#[actix_web::test]
async fn me_needs_a_token_and_patch_changes_the_display_name() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/me").await;
    res.problem(401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));

    let tokens = app.signed_up("renamer").await;
    let res = app
        .update_me(&tokens.access, &json!({"display_name": "Новое Имя"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["display_name"], "Новое Имя");
    app.update_me(&tokens.access, &json!({"display_name": "  "}))
        .await
        .problem(422);
}

#[actix_web::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let here = app.signed_up("changer").await;
    let elsewhere = Tokens::from(&app.login("changer", PASSWORD).await);

    let res = app
        .change_password(&here.access, "wrong", "new-violet-harbour-99")
        .await;
    assert!(res.problem(422)["errors"]["current_password"].is_array());

    let res = app
        .change_password(&here.access, PASSWORD, "new-violet-harbour-99")
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.refresh(&elsewhere.refresh).await.problem(401);
    assert_eq!(app.refresh(&here.refresh).await.status, 200);
    app.login("changer", PASSWORD).await.problem(401);
    assert_eq!(
        app.login("changer", "new-violet-harbour-99").await.status,
        200
    );
}

#[actix_web::test]
async fn sessions_are_listed_and_can_be_ended() {
    let app = TestApp::spawn().await;
    let here = app.signed_up("multi").await;
    let other = Tokens::from(&app.login("multi", PASSWORD).await);
    let res = app.sessions(&here.access).await;
    assert_eq!(res.status, 200);
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other_id = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();

    // Someone else cannot end it.
    let stranger = app.signed_up("stranger").await;
    app.end_session(&stranger.access, other_id)
        .await
        .problem(404);

    assert_eq!(app.end_session(&here.access, other_id).await.status, 204);
    app.refresh(&other.refresh).await.problem(401);
    let res = app.sessions(&here.access).await;
    assert_eq!(res.json()["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn profiles_are_public_without_email() {
    let app = TestApp::spawn().await;
    app.signed_up("Public_Person").await;
    let res = app.profile("public_person").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["username"], "Public_Person");
    assert_eq!(body["comments_count"], 0);
    assert_eq!(body["role"], "user");
    assert!(body.get("email").is_none(), "{body}");
    app.profile("nobody").await.problem(404);
}

#[actix_web::test]
async fn a_ban_acts_at_once_on_old_tokens() {
    let app = TestApp::spawn().await;
    let tokens = app.signed_up("troll").await;
    app.sql(&format!(
        "UPDATE users SET banned_at = '2026-01-01 00:00:00', ban_reason = 'spam' WHERE id = {}",
        tokens.user_id
    ));
    app.update_me(&tokens.access, &json!({"display_name": "x"}))
        .await
        .problem(403);
    app.login("troll", PASSWORD).await.problem(403);
    app.refresh(&tokens.refresh).await.problem(403);

    // A ban that has ended no longer counts.
    app.sql(&format!(
        "UPDATE users SET banned_until = '2026-01-02 00:00:00' WHERE id = {}",
        tokens.user_id
    ));
    assert_eq!(app.login("troll", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn auth_routes_are_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_AUTH_RATE", "3"),
        ("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let login_from = |ip: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .insert_header(("X-Forwarded-For", ip))
            .insert_header(("Content-Type", "application/json"));
        let body = json!({"login": "someone", "password": "whatever-it-is"}).to_string();
        app.send(request, Some(body.into()))
    };
    for _ in 0..3 {
        assert_eq!(login_from("198.51.100.1").await.status, 401);
    }
    let res = login_from("198.51.100.1").await;
    res.problem(429);
    let retry_after: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    // Another client behind the same proxy has its own allowance.
    assert_eq!(login_from("198.51.100.2").await.status, 401);
}

#[actix_web::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app =
        TestApp::spawn_with(&[("TRIBUNE_RATE_LIMITS", "on"), ("TRIBUNE_AUTH_RATE", "2")]).await;
    for (ip, expected) in [
        ("203.0.113.1", 401),
        ("203.0.113.2", 401),
        ("203.0.113.3", 429),
    ] {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .insert_header(("X-Forwarded-For", ip))
            .insert_header(("Content-Type", "application/json"));
        let body = json!({"login": "someone", "password": "whatever-it-is"}).to_string();
        assert_eq!(app.send(request, Some(body.into())).await.status, expected);
    }
}

#[actix_web::test]
async fn failed_logins_per_account_are_limited() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_AUTH_RATE", "1000"),
        ("TRIBUNE_LOGIN_FAILURES_PER_HOUR", "3"),
    ])
    .await;
    app.signed_up("target").await;
    for _ in 0..3 {
        app.login("target", "guess-guess-guess").await.problem(401);
    }
    let res = app.login("target", PASSWORD).await;
    res.problem(429);
    assert!(res.header("retry-after").is_some());
    // Other accounts are not affected.
    app.signed_up("bystander").await;
    assert_eq!(app.login("bystander", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn an_ended_session_cannot_read_the_account_either() {
    let app = TestApp::spawn().await;
    let tokens = app.signed_up("gone").await;
    assert_eq!(app.me(&tokens.access).await.status, 200);
    assert_eq!(app.logout(&tokens.refresh).await.status, 204);
    app.me(&tokens.access).await.problem(401);
    app.sessions(&tokens.access).await.problem(401);
}

#[actix_web::test]
async fn odd_text_and_cursors_are_client_errors() {
    let app = TestApp::spawn().await;
    // A NUL character: PostgreSQL refuses to store it; either way no 5xx.
    let res = app.login("a\u{0}b", "whatever-password").await;
    assert!(res.status < 500, "{}: {}", res.status, res.text());
    let res = app.get("/api/v1/articles?tag=%00").await;
    assert!(res.status < 500, "{}: {}", res.status, res.text());
    // A cursor made up to hold a date no database stores (year 7500 BC).
    app.feed("?cursor=MDotMzAwMDAwMDAwMDAwMDAwMDAwOjE")
        .await
        .problem(400);
    app.get("/api/v1/articles?cursor=LTMwMDAwMDAwMDAwMDAwMDAwMDox")
        .await
        .problem(400);
}
