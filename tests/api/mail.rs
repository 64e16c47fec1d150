//! Password reset by mail, through a real SMTP listener; the outbox's retries; `.eml` files.

use std::time::Duration;

use crate::helpers::{PASSWORD, TestApp};
use crate::smtp::{MailSink, token_in, unfold};

#[actix_web::test]
async fn a_password_reset_mail_arrives_and_its_link_works_once() {
    let sink = MailSink::start();
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_SMTP_URL", &sink.url()),
        ("TRIBUNE_PUBLIC_URL", "https://news.example"),
    ])
    .await;
    let tokens = app.signed_up("forgetful").await;

    let known = app.password_reset("Forgetful@example.com").await;
    let unknown = app.password_reset("stranger@example.com").await;
    assert_eq!(known.status, 202);
    assert_eq!(unknown.status, 202);
    assert_eq!(known.body, unknown.body);
    // Asking again at once answers the same and sends no second mail.
    let again = app.password_reset("forgetful@example.com").await;
    assert_eq!(again.body, known.body);

    sink.wait_for(1, Duration::from_secs(10)).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "one mail, to the known address");
    let mail = unfold(&mails[0]);
    assert!(mail.contains("To: forgetful@example.com"), "{mail}");
    assert!(
        mail.contains("https://news.example/reset-password?token="),
        "{mail}"
    );
    assert!(mail.contains("text/html"), "{mail}");
    let token = token_in(&mails[0]);

    // A weak new password is refused without spending the token.
    let res = app.password_reset_confirm(&token, "password").await;
    res.problem(422);
    let res = app
        .password_reset_confirm(&token, "brand-new-violet-lantern")
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    // Single use.
    let res = app
        .password_reset_confirm(&token, "another-violet-lantern")
        .await;
    assert!(res.problem(422)["errors"]["token"].is_array());
    // Every session has ended; the new password works, the old one does not.
    app.refresh(&tokens.refresh).await.problem(401);
    app.login("forgetful", PASSWORD).await.problem(401);
    assert_eq!(
        app.login("forgetful", "brand-new-violet-lantern")
            .await
            .status,
        200
    );
    app.password_reset_confirm(&"0".repeat(64), "brand-new-violet-lantern")
        .await
        .problem(422);
}

#[actix_web::test]
async fn a_temporary_smtp_failure_is_retried() {
    let sink = MailSink::start();
    sink.answer_rcpt_with(&[451]);
    let app = TestApp::spawn_with(&[("TRIBUNE_SMTP_URL", &sink.url())]).await;
    app.signed_up("patient").await;
    assert_eq!(app.password_reset("patient@example.com").await.status, 202);
    // The first attempt is refused with 451; the retry 5 s later goes through.
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    // At least the refused attempt and the one that went through. (Once, under a loaded
    // PostgreSQL run, a third RCPT was counted: not understood yet; see the session note.)
    assert!(sink.attempts() >= 2, "{}", sink.attempts());
    // The sink has the message before the sender records it: wait for the record.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.number(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE status = 'sent' AND attempts >= 2",
    ) != 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "never recorded as sent"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_permanent_smtp_failure_is_not_retried() {
    let sink = MailSink::start();
    sink.answer_rcpt_with(&[550, 550]);
    let app = TestApp::spawn_with(&[("TRIBUNE_SMTP_URL", &sink.url())]).await;
    app.signed_up("bounced").await;
    assert_eq!(app.password_reset("bounced@example.com").await.status, 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE status = 'failed'")
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "never marked failed");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sink.attempts(), 1);
    assert!(sink.messages().is_empty());
}

#[actix_web::test]
async fn without_smtp_mail_is_written_as_eml_files() {
    let app = TestApp::spawn().await;
    app.signed_up("offline").await;
    assert_eq!(app.password_reset("offline@example.com").await.status, 202);
    let dir = app.db.dir().join("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let file = loop {
        let found = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "eml"))
            })
            .ok()
            .flatten();
        if let Some(file) = found {
            break file;
        }
        assert!(std::time::Instant::now() < deadline, "no .eml in {dir:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("offline@example.com"), "{text}");
    token_in(&text);
}

#[actix_web::test]
async fn a_password_change_voids_reset_links_asked_for_before() {
    let sink = MailSink::start();
    let app = TestApp::spawn_with(&[("TRIBUNE_SMTP_URL", &sink.url())]).await;
    let tokens = app.signed_up("careful").await;
    assert_eq!(app.password_reset("careful@example.com").await.status, 202);
    let token = token_in(&sink.wait_for(1, Duration::from_secs(10)).await[0]);
    let res = app
        .change_password(&tokens.access, PASSWORD, "changed-violet-harbour-31")
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.password_reset_confirm(&token, "stolen-violet-harbour-13")
        .await
        .problem(422);
    assert_eq!(
        app.login("careful", "changed-violet-harbour-31")
            .await
            .status,
        200
    );
}
