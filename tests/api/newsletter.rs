//! Newsletter subscriptions through a real SMTP listener: double opt-in, confirmation links,
//! unsubscription (one-click), and the signed-in user's own subscription.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::smtp::{MailSink, token_in, unfold};

impl TestApp {
    pub async fn subscribe(&self, email: &str) -> crate::helpers::Response {
        self.post(
            "/api/v1/newsletter/subscriptions",
            &json!({ "email": email }),
        )
        .await
    }

    pub fn subscriber_status(&self, email: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
        }
        use diesel::RunQueryDsl;
        let mut conn = self.connection();
        diesel::sql_query(format!(
            "SELECT status FROM newsletter_subscribers WHERE email_key = '{}'",
            email.to_lowercase()
        ))
        .get_result::<Row>(&mut conn)
        .map(|r| r.status)
        .unwrap_or_else(|_| "none".into())
    }
}

async fn app_with_sink() -> (TestApp, MailSink) {
    let sink = MailSink::start();
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_SMTP_URL", &sink.url()),
        ("TRIBUNE_PUBLIC_URL", "https://news.example"),
    ])
    .await;
    (app, sink)
}

#[actix_web::test]
async fn double_opt_in_answers_alike_and_mails_once() {
    let (app, sink) = app_with_sink().await;
    let first = app.subscribe("Reader@Example.com").await;
    assert_eq!(first.status, 202, "{}", first.text());
    // Again at once: the same answer, no second mail.
    let again = app.subscribe("reader@example.com").await;
    assert_eq!(again.body, first.body);
    sink.wait_for(1, Duration::from_secs(10)).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "one confirmation mail");
    let mail = unfold(&mails[0]);
    assert!(mail.contains("To: Reader@Example.com"), "{mail}");
    assert!(
        mail.contains("https://news.example/api/v1/newsletter/confirm?token="),
        "{mail}"
    );
    assert_eq!(app.subscriber_status("reader@example.com"), "pending");

    // The link in the mail shows a page whose button confirms (a GET alone never does: mail
    // scanners open links); once only.
    let token = token_in(&mails[0]);
    let res = app
        .get(&format!("/api/v1/newsletter/confirm?token={token}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    let action = format!("action=\"/api/v1/newsletter/confirm?token={token}\"");
    assert!(res.text().contains(&action), "{}", res.text());
    assert_eq!(app.subscriber_status("reader@example.com"), "pending");
    let res = app
        .press_page_button(&format!("/api/v1/newsletter/confirm?token={token}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(res.text().contains("confirmed"), "{}", res.text());
    assert_eq!(app.subscriber_status("reader@example.com"), "confirmed");
    let used = app
        .post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await
        .problem(422);
    assert!(used["errors"]["token"].is_array(), "{used}");
    app.press_page_button(&format!("/api/v1/newsletter/confirm?token={token}"))
        .await
        .problem(422);

    // A confirmed address answers the same and gets nothing more.
    let confirmed = app.subscribe("reader@example.com").await;
    assert_eq!(confirmed.body, first.body);
    // An unknown, never-seen address answers the same too.
    let fresh = app.subscribe("someone-else@example.com").await;
    assert_eq!(fresh.status, 202);
    assert_eq!(fresh.body, first.body);
    sink.wait_for(2, Duration::from_secs(10)).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 2, "only the new address got a mail");
    assert!(unfold(&mails[1]).contains("To: someone-else@example.com"));

    app.subscribe("not-an-address").await.problem(422);
}

#[actix_web::test]
async fn expired_and_unknown_tokens_are_refused() {
    let (app, sink) = app_with_sink().await;
    app.subscribe("late@example.com").await;
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    let token = token_in(&mails[0]);
    app.sql(if app.db.is_postgres() {
        "UPDATE newsletter_subscribers SET confirm_expires_at = confirm_expires_at - INTERVAL '49 hours'"
    } else {
        "UPDATE newsletter_subscribers SET confirm_expires_at = datetime(confirm_expires_at, '-49 hours')"
    });
    app.post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await
        .problem(422);
    app.post(
        "/api/v1/newsletter/confirm",
        &json!({ "token": "0".repeat(64) }),
    )
    .await
    .problem(422);
    assert_eq!(app.subscriber_status("late@example.com"), "pending");
    // Subscribing again after the interval sends a new link, which works.
    app.sql(if app.db.is_postgres() {
        "UPDATE newsletter_subscribers SET confirm_sent_at = confirm_sent_at - INTERVAL '11 minutes'"
    } else {
        "UPDATE newsletter_subscribers SET confirm_sent_at = datetime(confirm_sent_at, '-11 minutes')"
    });
    app.subscribe("late@example.com").await;
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    let token = token_in(&mails[1]);
    let res = app
        .post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "confirmed");
}

fn unsubscribe_token(app: &TestApp, email: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        unsubscribe_token: String,
    }
    use diesel::RunQueryDsl;
    let mut conn = app.connection();
    diesel::sql_query(format!(
        "SELECT unsubscribe_token FROM newsletter_subscribers WHERE email_key = '{email}'"
    ))
    .get_result::<Row>(&mut conn)
    .unwrap()
    .unsubscribe_token
}

#[actix_web::test]
async fn a_get_never_unsubscribes_and_one_click_does() {
    let (app, sink) = app_with_sink().await;
    for email in ["one@example.com", "two@example.com"] {
        app.subscribe(email).await;
    }
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    for mail in &mails {
        let res = app
            .post(
                "/api/v1/newsletter/confirm",
                &json!({ "token": token_in(mail) }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let token = unsubscribe_token(&app, "one@example.com");

    // Opening the link shows a button; it changes nothing.
    let page = app
        .get(&format!("/api/v1/newsletter/unsubscribe?token={token}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("method=\"post\""), "{}", page.text());
    assert_eq!(app.subscriber_status("one@example.com"), "confirmed");

    // RFC 8058 one-click: a form POST to the link.
    let res = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/newsletter/unsubscribe?token={token}")))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded")),
            Some("List-Unsubscribe=One-Click".into()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "unsubscribed");
    assert_eq!(app.subscriber_status("one@example.com"), "unsubscribed");
    // Idempotent.
    let res = app
        .post("/api/v1/newsletter/unsubscribe", &json!({ "token": token }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // The other address is untouched; unknown tokens and missing ones are refused.
    assert_eq!(app.subscriber_status("two@example.com"), "confirmed");
    app.post(
        "/api/v1/newsletter/unsubscribe",
        &json!({ "token": "nope" }),
    )
    .await
    .problem(422);
    app.send_json("POST", "/api/v1/newsletter/unsubscribe", None, None)
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_reader_manages_the_subscription_of_the_account_email() {
    let (app, sink) = app_with_sink().await;
    let reader = app.signed_up("reader").await;
    let me = |res: crate::helpers::Response| -> Value {
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    };
    let state = me(app.get_as("/api/v1/me/newsletter", &reader.access).await);
    assert_eq!(state, json!({"subscribed": false, "status": "none"}));

    let put = |subscribed: bool| {
        let body = json!({ "subscribed": subscribed });
        let app = &app;
        let token = reader.access.clone();
        async move {
            app.send_json("PUT", "/api/v1/me/newsletter", Some(&token), Some(&body))
                .await
        }
    };
    let state = me(put(true).await);
    assert_eq!(state, json!({"subscribed": false, "status": "pending"}));
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert!(unfold(&mails[0]).contains("To: reader@example.com"));
    let res = app
        .post(
            "/api/v1/newsletter/confirm",
            &json!({ "token": token_in(&mails[0]) }),
        )
        .await;
    assert_eq!(res.status, 200);
    let state = me(app.get_as("/api/v1/me/newsletter", &reader.access).await);
    assert_eq!(state, json!({"subscribed": true, "status": "confirmed"}));

    let state = me(put(false).await);
    assert_eq!(
        state,
        json!({"subscribed": false, "status": "unsubscribed"})
    );
    app.send_json("GET", "/api/v1/me/newsletter", None, None)
        .await
        .problem(401);
}

fn send_digest(app: &TestApp, sink: &MailSink, day: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db.url)
        .env("TRIBUNE_CONFIG", "/dev/null")
        .env("TRIBUNE_SMTP_URL", sink.url())
        .env("TRIBUNE_PUBLIC_URL", "https://news.example")
        .env("TRIBUNE_DIGEST_HOUR", "6")
        .env("TRIBUNE_MAIL_RATE", "1000")
        .env("RUST_LOG", "warn")
        .args(["newsletter", "send-digest", "--date", day])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn add_subscriber(app: &TestApp, email: &str, status: &str) {
    let at = if app.db.is_postgres() {
        "now()"
    } else {
        "CURRENT_TIMESTAMP"
    };
    app.sql(&format!(
        "INSERT INTO newsletter_subscribers (email, email_key, status, unsubscribe_token, \
         created_at) VALUES ('{email}', '{email}', '{status}', 'unsub-{email}', {at})"
    ));
}

#[actix_web::test]
async fn the_digest_goes_once_to_each_confirmed_subscriber() {
    let (app, sink) = app_with_sink().await;
    let editor = app.editor("editor").await;
    let day = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let in_window = format!("{day}T05:00:00Z");
    let before = format!("{}T05:00:00Z", day - chrono::Duration::days(2));
    for (title, at) in [
        ("Inside the window", &in_window),
        ("Too old for it", &before),
    ] {
        let res = app
            .create_article(
                &editor.access,
                &json!({"title": title, "lead": "The lead.", "body": "B.", "published_at": at}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        add_subscriber(&app, email, "confirmed");
    }
    add_subscriber(&app, "pending@example.com", "pending");
    add_subscriber(&app, "gone@example.com", "unsubscribed");
    // A run that died after enqueueing part of its first batch.
    {
        let mut conn = app.connection();
        let at = tribune::db::now();
        tribune::mail::repo::enqueue_all(
            &mut conn,
            &[tribune::mail::repo::NewMail {
                dedup_key: format!("digest:{day}:1"),
                recipient: "a@example.com".into(),
                subject: format!("The news of {day}"),
                body_text: "partial run".into(),
                body_html: None,
                next_attempt_at: at,
                created_at: at,
                list_unsubscribe: Some(
                    "https://news.example/api/v1/newsletter/unsubscribe?token=unsub-a@example.com"
                        .into(),
                ),
                subscriber_id: Some(1),
                digest_day: Some(day.to_string()),
                secret: None,
            }],
        )
        .unwrap();
    }

    let out = send_digest(&app, &sink, &day.to_string());
    assert!(out.contains("1 articles, 2 mails enqueued"), "{out}");
    sink.wait_for(3, Duration::from_secs(10)).await;
    // Run again: nothing new.
    let out = send_digest(&app, &sink, &day.to_string());
    assert!(out.contains("0 mails enqueued"), "{out}");
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    let mails: Vec<String> = sink.messages().iter().map(|m| unfold(m)).collect();
    assert_eq!(mails.len(), 3, "one each: {mails:#?}");
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        let to_them: Vec<&String> = mails
            .iter()
            .filter(|m| m.contains(&format!("To: {email}")))
            .collect();
        assert_eq!(to_them.len(), 1, "{email}");
        let mail = to_them[0];
        assert!(
            mail.contains(
                "List-Unsubscribe: <https://news.example/api/v1/newsletter/unsubscribe?token="
            ),
            "{mail}"
        );
        assert!(
            mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{mail}"
        );
    }
    let full = mails
        .iter()
        .find(|m| m.contains("To: b@example.com"))
        .unwrap();
    assert!(
        full.contains("text/plain") && full.contains("text/html"),
        "{full}"
    );
    assert!(full.contains("Inside the window"), "{full}");
    assert!(!full.contains("Too old for it"), "{full}");
    assert!(full.contains("https://news.example/articles/"), "{full}");

    // A digest whose time has not come is refused (it would end its day early).
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let early = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"))
        .env("DATABASE_URL", &app.db.url)
        .env("TRIBUNE_CONFIG", "/dev/null")
        .args(["newsletter", "send-digest", "--date", &tomorrow.to_string()])
        .output()
        .unwrap();
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("not before"));

    // A day without news sends nothing.
    let quiet = day - chrono::Duration::days(10);
    let out = send_digest(&app, &sink, &quiet.to_string());
    assert!(out.contains("0 articles, 0 mails"), "{out}");
    assert_eq!(sink.messages().len(), 3);
}

#[actix_web::test]
async fn serve_sends_the_digest_when_it_is_due_and_counts_bounces() {
    let sink = MailSink::start();
    // A digest hour of 0: today's digest is due all day.
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_SMTP_URL", &sink.url()),
        ("TRIBUNE_PUBLIC_URL", "https://news.example"),
        ("TRIBUNE_DIGEST_HOUR", "0"),
        ("TRIBUNE_DIGEST_CHECK_MS", "200"),
    ])
    .await;
    let editor = app.editor("editor").await;
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let res = app
        .create_article(
            &editor.access,
            &json!({"title": "Yesterday's news", "lead": "L.", "body": "B.",
                    "published_at": format!("{yesterday}T12:00:00Z")}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    add_subscriber(&app, "daily@example.com", "confirmed");
    add_subscriber(&app, "bouncy@example.com", "confirmed");
    // The digest ran at start, before the news: let it run again.
    app.sql("DELETE FROM newsletter_digests");
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    assert!(mails.iter().all(|m| unfold(m).contains("Yesterday's news")));

    // Admin view of the day.
    let admin = app.with_role("chief", "admin").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let digests = loop {
        let res = app
            .get_as("/api/v1/admin/newsletter/digests", &admin.access)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let body = res.json();
        if body["items"][0]["sent"] == 2 || std::time::Instant::now() > deadline {
            break body;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(digests["items"][0]["day"], today.as_str(), "{digests}");
    assert_eq!(digests["items"][0]["enqueued"], 2, "{digests}");
    assert_eq!(digests["items"][0]["sent"], 2, "{digests}");
    assert_eq!(digests["items"][0]["failed"], 0, "{digests}");

    // Three permanent failures in a row: the address is bouncing.
    let id = app.number(
        "SELECT CAST(id AS BIGINT) AS n FROM newsletter_subscribers WHERE email = 'bouncy@example.com'",
    );
    let mut conn = app.connection();
    for _ in 0..3 {
        tribune::newsletter::repo::record_bounce(&mut conn, id).unwrap();
    }
    assert_eq!(app.subscriber_status("bouncy@example.com"), "bouncing");
    assert_eq!(app.subscriber_status("daily@example.com"), "confirmed");
    let list = app
        .get_as(
            "/api/v1/admin/newsletter/subscribers?status=bouncing",
            &admin.access,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let list = list.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["email"], "bouncy@example.com");
}

#[actix_web::test]
async fn the_newsletter_admin_lists_are_for_admins() {
    let app = TestApp::spawn().await;
    for email in ["p1@example.com", "p2@example.com", "p3@example.com"] {
        add_subscriber(&app, email, "pending");
    }
    add_subscriber(&app, "c1@example.com", "confirmed");
    let user = app.signed_up("user").await;
    let moderator = app.with_role("mod", "moderator").await;
    let admin = app.with_role("chief", "admin").await;
    for path in [
        "/api/v1/admin/newsletter/subscribers",
        "/api/v1/admin/newsletter/digests",
    ] {
        app.get(path).await.problem(401);
        app.get_as(path, &user.access).await.problem(403);
        app.get_as(path, &moderator.access).await.problem(403);
        assert_eq!(app.get_as(path, &admin.access).await.status, 200);
    }
    // Paged by keyset, filtered by status.
    let first = app
        .get_as(
            "/api/v1/admin/newsletter/subscribers?status=pending&limit=2",
            &admin.access,
        )
        .await
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_as(
            &format!("/api/v1/admin/newsletter/subscribers?status=pending&limit=2&cursor={cursor}"),
            &admin.access,
        )
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let all = app
        .get_as("/api/v1/admin/newsletter/subscribers", &admin.access)
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    app.get_as(
        "/api/v1/admin/newsletter/subscribers?status=famous",
        &admin.access,
    )
    .await
    .problem(400);
}

#[actix_web::test]
async fn a_refused_digest_counts_a_bounce() {
    let (app, sink) = app_with_sink().await;
    let editor = app.editor("editor").await;
    let day = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let res = app
        .create_article(
            &editor.access,
            &json!({"title": "News", "lead": "L.", "body": "B.",
                    "published_at": format!("{day}T05:00:00Z")}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    add_subscriber(&app, "refused@example.com", "confirmed");
    sink.answer_rcpt_with(&[550, 550, 550]);
    let out = send_digest(&app, &sink, &day.to_string());
    assert!(out.contains("1 mails enqueued"), "{out}");
    // (The server's own worker may be the one that tries it.)
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.number("SELECT CAST(bounces AS BIGINT) AS n FROM newsletter_subscribers") == 0 {
        assert!(std::time::Instant::now() < deadline, "no bounce counted");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.number("SELECT CAST(bounces AS BIGINT) AS n FROM newsletter_subscribers"),
        1
    );
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE status = 'failed'"),
        1
    );
    // One bounce is not enough to stop the digests.
    assert_eq!(app.subscriber_status("refused@example.com"), "confirmed");
    assert!(sink.messages().is_empty());
}

#[actix_web::test]
async fn an_account_learns_nothing_of_a_subscription_it_does_not_own() {
    let app = TestApp::spawn().await;
    // Someone subscribed (and confirmed) victim@example.com without any account.
    add_subscriber(&app, "victim@example.com", "confirmed");
    // Accounts do not prove their email: anyone may register with that address.
    let mallory = app
        .register(
            &json!({"username": "mallory", "email": "victim@example.com",
                          "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(mallory.status, 201, "{}", mallory.text());
    let token = crate::helpers::Tokens::from(&mallory).access;
    let state = app.get_as("/api/v1/me/newsletter", &token).await.json();
    assert_eq!(state["status"], "none", "{state}");
    let off = json!({ "subscribed": false });
    let res = app
        .send_json("PUT", "/api/v1/me/newsletter", Some(&token), Some(&off))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.subscriber_status("victim@example.com"), "confirmed");
    let on = json!({ "subscribed": true });
    let res = app
        .send_json("PUT", "/api/v1/me/newsletter", Some(&token), Some(&on))
        .await;
    assert_eq!(
        res.json()["status"],
        "pending",
        "the same answer as for any address"
    );
    assert_eq!(app.subscriber_status("victim@example.com"), "confirmed");
    let state = app.get_as("/api/v1/me/newsletter", &token).await.json();
    assert_eq!(state["status"], "pending", "{state}");
}
