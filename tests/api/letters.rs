//! Mail that readers want to open (docs/mail.md): the site's name and its own links, the
//! digest's design in English and Russian with their plural forms, each subscriber's language,
//! proper headers, and screenshots of each mail in a real browser.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Timelike;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::TestApp;
use crate::smtp::MailSink;

const SITE: &[(&str, &str)] = &[
    ("TRIBUNE_PUBLIC_URL", "https://community.news.example"),
    ("TRIBUNE_SITE_NAME", "Evening News"),
    ("TRIBUNE_ARTICLE_URL", "https://news.example/news/{slug}"),
    ("TRIBUNE_DISCUSSION_URL", "https://news.example/forum/{id}"),
    ("TRIBUNE_MAIL_FROM", "noreply@news.example"),
    ("TRIBUNE_MAIL_REPLY_TO", "Newsroom <letters@news.example>"),
];

/// `POST path` with a JSON body, from a reader whose browser speaks `language`.
async fn post_in(
    app: &TestApp,
    path: &str,
    language: &str,
    body: serde_json::Value,
) -> crate::helpers::Response {
    app.send(
        app.client
            .post(app.url(path))
            .insert_header(("Accept-Language", language))
            .insert_header(("Content-Type", "application/json")),
        Some(body.to_string().into()),
    )
    .await
}

/// The `tribune` binary on this test's database, with the digest at 06:00 and `settings`.
fn tribune_command(app: &TestApp, settings: &[(&str, &str)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db.url)
        .env("TRIBUNE_CONFIG", "/dev/null")
        .env("TRIBUNE_DIGEST_HOUR", "6")
        .env("TRIBUNE_MAIL_RATE", "1000")
        .env("RUST_LOG", "warn");
    for (k, v) in settings {
        command.env(k, v);
    }
    command
}

/// Mails are read top to bottom: tall screenshots.
const MAIL_SIZES: &[(&str, (u32, u32))] = &[("desktop", (1280, 1800)), ("phone", (390, 2000))];

/// `tribune newsletter preview` of `day` in `lang`: `(html, text)`.
fn preview(
    app: &TestApp,
    day: chrono::NaiveDate,
    lang: &str,
    out: &Path,
    extra: &[(&str, &str)],
) -> (String, String) {
    let settings: Vec<(&str, &str)> = SITE.iter().chain(extra).copied().collect();
    let mut command = tribune_command(app, &settings);
    let day_text = day.to_string();
    let output = command
        .args(["newsletter", "preview", "--date", &day_text, "--lang", lang])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |ext: &str| {
        std::fs::read_to_string(out.join(format!("digest-{day}-{lang}.{ext}"))).unwrap()
    };
    (read("html"), read("txt"))
}

/// The day whose digest window holds this moment (the 24 hours before 06:00 UTC).
fn current_digest_day() -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    if now.hour() >= 6 {
        now.date_naive() + chrono::Duration::days(1)
    } else {
        now.date_naive()
    }
}

/// A moment a few minutes ago, but never before the current digest window opened (a run
/// just after 06:00 UTC would otherwise publish into yesterday's digest).
fn just_published() -> chrono::DateTime<chrono::Utc> {
    let opened = (current_digest_day() - chrono::Duration::days(1))
        .and_hms_opt(6, 0, 0)
        .unwrap()
        .and_utc();
    (chrono::Utc::now() - chrono::Duration::minutes(5)).max(opened)
}

/// Nothing of a template left in a rendering.
fn assert_filled(text: &str) {
    for mark in ["{{", "}}", "{%", "%}", "{ $", "{$", "tribune-subscriber-"] {
        assert!(!text.contains(mark), "`{mark}` left in:\n{text}");
    }
}

/// A small HTTP server that answers every request with `png` (the article's picture).
fn picture_server(png: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                png.len()
            );
            let _ = stream.write_all(&png);
        }
    });
    format!("http://{address}/picture.png")
}

async fn the_news(app: &TestApp, picture: &str) -> i64 {
    let editor = app.editor("editor").await;
    let at = just_published().to_rfc3339();
    let first = app
        .create_article(
            &editor.access,
            &json!({"title": "Ракета стартует в пятницу", "lead": "Запуск перенесли из-за погоды: что изменится для зрителей.",
                    "body": "Текст.", "published_at": at, "image_url": picture, "image_credit": "Иван Петров"}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = app
        .create_article(
            &editor.access,
            &json!({"title": "City budget: what changes in 2027", "lead": "Five things readers asked about.",
                    "body": "Text.", "published_at": at}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text());
    let slug = first.json()["slug"].as_str().unwrap().to_string();
    let reader = app.signed_up("reader").await;
    for body in ["Наконец-то!", "А погода точно позволит?"] {
        let res = app
            .send_json(
                "POST",
                &format!("/api/v1/articles/{slug}/comments"),
                Some(&reader.access),
                Some(&json!({"body": body})),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    first.json()["discussion_id"].as_i64().unwrap_or_default()
}

#[actix_web::test]
async fn the_digest_is_written_for_each_language_with_the_sites_links() {
    let app = TestApp::spawn_with(SITE).await;
    the_news(&app, "https://images.news.example/rocket.jpg").await;
    let dir = tempfile_dir("digest");
    let day = current_digest_day();
    let (html, text) = preview(&app, day, "ru", &dir, &[]);
    assert_filled(&html);
    assert_filled(&text);
    assert!(html.len() < 100 * 1024, "{} bytes", html.len());
    // Russian, with Russian plural forms and dates.
    assert!(text.contains("2 комментария"), "{text}");
    assert!(text.contains("0 комментариев"), "{text}");
    assert!(text.contains("2 новых комментария"), "{text}");
    let month = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ][chrono::Datelike::month0(&day) as usize];
    assert!(
        text.contains(&format!(
            "Новости за {} {month}",
            chrono::Datelike::day(&day)
        )),
        "{text}"
    );
    assert!(html.contains("Фото: Иван Петров"), "the picture's credit");
    assert!(html.contains("https://images.news.example/rocket.jpg"));
    assert!(html.contains("Evening News") && html.contains("lang=\"ru\""));
    // Every link to the site's pages uses its templates; none to paths it may not have.
    assert!(html.contains("https://news.example/news/"), "{html}");
    for part in [&html, &text] {
        assert!(
            !part.contains("/articles/") && !part.contains("/discussions/"),
            "{part}"
        );
    }
    // English.
    let (html, text) = preview(&app, day, "en", &dir, &[]);
    assert_filled(&html);
    assert!(
        text.contains("2 comments") && text.contains("0 comments"),
        "{text}"
    );
    assert!(html.contains("Photo: Иван Петров"), "{html}");
    // A site's own template replaces the built-in one.
    let templates = tempfile_dir("templates");
    std::fs::write(
        templates.join("digest.txt"),
        "{{ site_name }}: {{ articles | length }} — {{ t(\"digest-comments\", count=5) }}\n\
         {{ unsubscribe }}\n",
    )
    .unwrap();
    let own = [("TRIBUNE_TEMPLATE_DIR", templates.to_str().unwrap())];
    let (_, text) = preview(&app, day, "ru", &dir, &own);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Evening News: 2 — 5 комментариев"));
    assert!(
        lines
            .next()
            .unwrap()
            .contains("/api/v1/newsletter/unsubscribe?token="),
        "{text}"
    );
    // One that loses the unsubscribe link is refused: no subscriber gets a digest to stay in.
    std::fs::write(templates.join("digest.txt"), "{{ site_name }}\n").unwrap();
    let preview = || {
        tribune_command(&app, &own)
            .args(["newsletter", "preview", "--date", &day.to_string(), "--out"])
            .arg(&dir)
            .output()
            .unwrap()
    };
    let refused = preview();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must show `unsubscribe`"));
    // A template that asks for a message no language has is refused at start, naming both,
    // even one that this command would not render (the password reset's).
    std::fs::remove_file(templates.join("digest.txt")).unwrap();
    std::fs::write(
        templates.join("reset.txt"),
        "{{ t(\"reset-heding\") }}\n{{ link }}\n",
    )
    .unwrap();
    let refused = preview();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("reset.txt") && stderr.contains("`reset-heding`"),
        "{stderr}"
    );
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tribune-{name}-{}",
        tribune::auth::tokens::random_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn parsed(raw: &str) -> mail_parser::Message<'static> {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a mail")
        .into_owned()
}

#[actix_web::test]
async fn mails_speak_the_language_they_were_asked_in_and_say_who_sends_them() {
    let sink = MailSink::start();
    let mut settings: Vec<(&str, &str)> = SITE.to_vec();
    let url = sink.url();
    settings.push(("TRIBUNE_SMTP_URL", &url));
    let app = TestApp::spawn_with(&settings).await;
    for (email, language) in [
        ("ru@example.com", "ru-RU,ru;q=0.9,en;q=0.5"),
        ("en@example.com", "en-GB"),
    ] {
        let res = post_in(
            &app,
            "/api/v1/newsletter/subscriptions",
            language,
            json!({ "email": email }),
        )
        .await;
        assert_eq!(res.status, 202, "{}", res.text());
    }
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    let to = |email: &str| {
        let raw = mails.iter().find(|m| m.contains(email)).unwrap().clone();
        (parsed(&raw), raw)
    };
    let (ru, raw) = to("ru@example.com");
    assert_eq!(
        ru.subject(),
        Some("Подтвердите подписку на ежедневную рассылку Evening News")
    );
    let html = ru.body_html(0).unwrap().to_string();
    assert!(html.contains("Подтвердить подписку"), "{html}");
    assert!(
        html.contains("https://community.news.example/api/v1/newsletter/confirm?token="),
        "{html}"
    );
    assert_filled(&html);
    assert!(ru.body_text(0).unwrap().contains("Здравствуйте"));
    let from = ru.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Evening News"));
    assert_eq!(from.address(), Some("noreply@news.example"));
    assert_eq!(
        ru.reply_to().unwrap().first().unwrap().address(),
        Some("letters@news.example")
    );
    assert!(ru.message_id().unwrap().ends_with("@news.example"), "{raw}");
    assert!(ru.date().is_some(), "{raw}");
    let (en, _) = to("en@example.com");
    assert_eq!(
        en.subject(),
        Some("Confirm your subscription to the daily digest of Evening News")
    );

    // The page the confirmation link opens speaks the browser's language too.
    let page = app
        .send(
            app.client
                .get(app.url("/api/v1/newsletter/confirm?token=abc"))
                .insert_header(("Accept-Language", "ru-RU,ru;q=0.9")),
            None,
        )
        .await;
    assert_eq!(page.header("content-language"), Some("ru"));
    let text = page.text();
    assert!(
        text.contains("lang=\"ru\"") && text.contains("Подтвердить подписку"),
        "{text}"
    );
    let page = app.get("/api/v1/newsletter/confirm?token=abc").await.text();
    assert!(
        page.contains("Confirm the subscription"),
        "the site's default: {page}"
    );

    // The reset mail takes the language of its request.
    app.signed_up("reader").await;
    let res = post_in(
        &app,
        "/api/v1/auth/password-reset",
        "ru",
        json!({ "email": "reader@example.com" }),
    )
    .await;
    assert_eq!(res.status, 202);
    let mails = sink.wait_for(3, Duration::from_secs(10)).await;
    let reset = parsed(
        mails
            .iter()
            .find(|m| m.contains("reader@example.com"))
            .unwrap(),
    );
    assert_eq!(reset.subject(), Some("Смена пароля на Evening News"));
    assert!(reset.body_html(0).unwrap().contains("Выбрать новый пароль"));
}

#[actix_web::test]
async fn the_mails_as_readers_see_them() {
    let sink = MailSink::start();
    let mut settings: Vec<(&str, &str)> = SITE.to_vec();
    let url = sink.url();
    settings.push(("TRIBUNE_SMTP_URL", &url));
    settings.push(("TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS", "0"));
    let app = TestApp::spawn_with(&settings).await;
    let Some(browser) = Browser::open(&app, "ru-RU").await else {
        return;
    };
    // The article's picture: a sky drawn by the browser itself.
    browser
        .open_url(
            "data:text/html,<body style='margin:0;height:100vh;background:linear-gradient(160deg,%230b1d3a,%232a5298 55%25,%23f2b600)'></body>",
        )
        .await;
    let picture = picture_server(browser.client.screenshot().await.unwrap());
    let discussion = the_news(&app, &picture).await;
    // The screenshots and plain-text parts go in the docs; the HTML the browser opens, elsewhere.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/mail");
    std::fs::create_dir_all(&dir).unwrap();
    let pages = tempfile_dir("mail-pages");
    let day = current_digest_day();
    for lang in ["ru", "en"] {
        let (html, text) = preview(&app, day, lang, &dir, &[]);
        let page = pages.join(format!("digest-{lang}.html"));
        std::fs::write(&page, &html).unwrap();
        std::fs::write(dir.join(format!("digest-{lang}.txt")), &text).unwrap();
        std::fs::remove_file(dir.join(format!("digest-{day}-{lang}.html"))).unwrap();
        std::fs::remove_file(dir.join(format!("digest-{day}-{lang}.txt"))).unwrap();
        browser
            .open_url(&format!("file://{}", page.display()))
            .await;
        browser.wait_for("table").await;
        browser
            .screenshots_at(&format!("mail/digest-{lang}"), MAIL_SIZES)
            .await;
    }
    // The confirmation and reset mails, as sent.
    let res = post_in(
        &app,
        "/api/v1/newsletter/subscriptions",
        "ru",
        json!({ "email": "ru@example.com" }),
    )
    .await;
    assert_eq!(res.status, 202);
    app.password_reset("reader@example.com").await;
    // And a reply to the reader, who reads in Russian.
    let reader = crate::helpers::Tokens::from(&app.login("reader", crate::helpers::PASSWORD).await);
    app.update_me(&reader.access, &json!({"language": "ru"}))
        .await;
    let theirs = app
        .get(&format!("/api/v1/discussions/{discussion}/comments"))
        .await
        .json();
    let first = theirs["items"][0]["id"].as_i64().unwrap();
    let writer = app.signed_up("maria").await;
    app.commented(
        &writer.access,
        discussion,
        "Обещают ясное небо, так что да!",
        Some(first),
    )
    .await;
    let mails = sink.wait_for(3, Duration::from_secs(20)).await;
    let subject_of = |m: &String| parsed(m).subject().unwrap_or_default().to_string();
    for (name, pick) in [
        ("confirm-ru", "Подтвердите"),
        ("reset-en", "Reset your password"),
        ("notification-ru", "отвечает"),
    ] {
        let mail = parsed(mails.iter().find(|m| subject_of(m).contains(pick)).unwrap());
        let page = pages.join(format!("{name}.html"));
        std::fs::write(&page, mail.body_html(0).unwrap().as_bytes()).unwrap();
        std::fs::write(
            dir.join(format!("{name}.txt")),
            mail.body_text(0).unwrap().as_bytes(),
        )
        .unwrap();
        browser
            .open_url(&format!("file://{}", page.display()))
            .await;
        browser.wait_for("table").await;
        browser
            .screenshots_at(&format!("mail/{name}"), MAIL_SIZES)
            .await;
    }
    browser.close().await;
}

#[actix_web::test]
async fn mails_are_signed_with_dkim_when_a_key_is_given() {
    let dir = tempfile_dir("dkim");
    let key = dir.join("dkim.pem");
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .output();
    let Some(made) = made.ok().filter(|m| m.status.success()) else {
        eprintln!("skipped: no openssl to make an RSA key with");
        return;
    };
    assert!(key.exists(), "{made:?}");
    let sink = MailSink::start();
    let url = sink.url();
    let key_path = key.to_str().unwrap().to_string();
    let mut settings: Vec<(&str, &str)> = SITE.to_vec();
    settings.extend([
        ("TRIBUNE_SMTP_URL", url.as_str()),
        ("TRIBUNE_DKIM_KEY_FILE", key_path.as_str()),
        ("TRIBUNE_DKIM_SELECTOR", "mail2026"),
    ]);
    let app = TestApp::spawn_with(&settings).await;
    assert_eq!(app.subscribe("someone@example.com").await.status, 202);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    let mail = crate::smtp::unfold(&mails[0])
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    let signature = mail
        .lines()
        .find(|l| l.starts_with("DKIM-Signature:"))
        .unwrap_or_else(|| panic!("no DKIM-Signature in:\n{mail}"));
    for field in [
        "v=1",
        "a=rsa-sha256",
        "d=news.example",
        "s=mail2026",
        "c=relaxed/relaxed",
        "list-unsubscribe:list-unsubscribe-post",
        "bh=",
        "b=",
    ] {
        assert!(signature.contains(field), "`{field}` in {signature}");
    }
}

#[actix_web::test]
async fn an_account_chooses_the_language_of_its_mails() {
    let sink = MailSink::start();
    let url = sink.url();
    let mut settings: Vec<(&str, &str)> = SITE.to_vec();
    settings.extend([
        ("TRIBUNE_SMTP_URL", url.as_str()),
        ("TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS", "0"),
    ]);
    let app = TestApp::spawn_with(&settings).await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    assert_eq!(
        app.me(&alice.access).await.json()["language"],
        serde_json::Value::Null
    );
    let res = app
        .update_me(&alice.access, &json!({"language": "ru"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["language"], "ru");
    let refused = app
        .update_me(&alice.access, &json!({"language": "de"}))
        .await;
    assert!(
        refused.status == 422 || refused.status == 400,
        "{}",
        refused.text()
    );
    assert!(refused.text().contains("language"), "{}", refused.text());

    // A reply to her comes in Russian, linked through the site's templates.
    let topic = app.topic(&alice.access, "Снег").await;
    let first = app.commented(&alice.access, topic, "Идёт снег", None).await;
    let reply = app
        .commented(&bob.access, topic, "И правда идёт", Some(first))
        .await;
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    let mail = parsed(
        mails
            .iter()
            .find(|m| m.contains("alice@example.com"))
            .unwrap(),
    );
    assert_eq!(
        mail.subject(),
        Some("bob отвечает на ваш комментарий в «Снег»")
    );
    let html = mail.body_html(0).unwrap().to_string();
    assert_filled(&html);
    assert!(html.contains("Отключить эти письма"), "{html}");
    assert!(
        html.contains(&format!(
            "https://news.example/forum/{topic}#comment-{reply}"
        )),
        "{html}"
    );
    assert!(
        mail.body_text(0).unwrap().contains("«И правда идёт»")
            || mail.body_text(0).unwrap().contains("И правда идёт")
    );
}

#[actix_web::test]
async fn mails_come_from_the_sites_name_by_default() {
    let sink = MailSink::start();
    let url = sink.url();
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_SMTP_URL", url.as_str()),
        ("TRIBUNE_SITE_NAME", "Evening News"),
    ])
    .await;
    assert_eq!(app.subscribe("someone@example.com").await.status, 202);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    let mail = parsed(&mails[0]);
    let from = mail.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Evening News"));
    assert_eq!(from.address(), Some("noreply@localhost"));
}

#[actix_web::test]
async fn a_subscribers_digest_follows_their_accounts_language() {
    let sink = MailSink::start();
    let url = sink.url();
    let mut settings: Vec<(&str, &str)> = SITE.to_vec();
    settings.push(("TRIBUNE_SMTP_URL", url.as_str()));
    let app = TestApp::spawn_with(&settings).await;
    let editor = app.editor("editor").await;
    let day = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let res = app
        .create_article(
            &editor.access,
            &json!({"title": "Ракета", "lead": "Лид.", "body": "Текст.",
                    "published_at": format!("{day}T05:00:00Z")}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // She subscribes in English, then chooses Russian for her account.
    let alice = app.signed_up("alice").await;
    let res = app
        .send_json(
            "PUT",
            "/api/v1/me/newsletter",
            Some(&alice.access),
            Some(&json!({"subscribed": true})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let confirmation = sink.wait_for(1, Duration::from_secs(10)).await;
    let token = crate::smtp::token_in(&confirmation[0]);
    let res = app
        .post("/api/v1/newsletter/confirm", &json!({ "token": token }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.update_me(&alice.access, &json!({"language": "ru"}))
            .await
            .status,
        200
    );

    let out = tribune_command(&app, &settings)
        .args(["newsletter", "send-digest", "--date", &day.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    let digest = parsed(&mails[1]);
    assert!(
        digest.subject().unwrap().starts_with("Новости за"),
        "{:?}",
        digest.subject()
    );
    let text = digest.body_text(0).unwrap().to_string();
    assert_filled(&text);
    assert!(
        text.contains("alice@example.com") && text.contains("unsubscribe?token="),
        "{text}"
    );
}
