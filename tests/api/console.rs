//! The moderators' console (`/console/`) in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them), through
//! fantoccini. The screenshots in `docs/console.md` are taken here (`docs/console/*.png`).
//!
//! Without a browser on the machine the browser tests say so and pass: CI always has one
//! (`crate::browser`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::TestApp;

#[actix_web::test]
async fn the_console_is_one_page_that_runs_only_its_own_files() {
    let app = TestApp::spawn().await;
    let page = app.get("/console/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.header("content-security-policy").unwrap().to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!page.text().contains("<script>"), "no inline script");
    for file in ["console.js", "console.css", "en.json", "ru.json"] {
        let res = app.get(&format!("/console/{file}")).await;
        assert_eq!(res.status, 200, "{file}");
        let tag = res.header("etag").unwrap().to_string();
        let again = app
            .send(
                app.client
                    .get(app.url(&format!("/console/{file}")))
                    .insert_header(("If-None-Match", tag.as_str())),
                None,
            )
            .await;
        assert_eq!(again.status, 304, "{file} is revalidated");
    }
    // Both languages say everything.
    let en = app.get("/console/en.json").await.json();
    let ru = app.get("/console/ru.json").await.json();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&en), keys(&ru));
    let missing = app.get("/console/nothing.js").await;
    missing.problem(404);
}

#[actix_web::test]
async fn a_moderator_resolves_a_report_bans_locks_and_finds_it_all_in_the_audit_log() {
    let app = TestApp::spawn().await;
    app.first_admin().await;
    let moderator = app.with_role("marta", "moderator").await;
    let writer = app.signed_up("troll").await;
    let reader = app.signed_up("reporter").await;
    let topic = app
        .topic(&reader.access, "Rocket launch moved to Friday")
        .await;
    let parent = app
        .commented(&reader.access, topic, "Is the launch still on?", None)
        .await;
    let hostile = "<script>window.pwned = 1</script> <img src=x onerror=\"window.pwned = 2\"> \
                   **no** [click](javascript:window.pwned=3)";
    let comment = app
        .commented(&writer.access, topic, hostile, Some(parent))
        .await;
    assert_eq!(
        app.report(&reader.access, comment, "spam and abuse")
            .await
            .status,
        202
    );

    let Some(browser) = Browser::open(&app, "en-US").await else {
        return;
    };
    browser.sign_in("marta").await;
    // The report, its comment as text (nothing of it runs), its context.
    let card = browser.text("#reports li.card").await;
    assert!(card.contains("<script>window.pwned = 1</script>"), "{card}");
    assert!(
        card.contains("Is the launch still on?"),
        "the parent: {card}"
    );
    assert!(card.contains("spam and abuse"), "{card}");
    assert!(card.contains("Rocket launch moved to Friday"), "{card}");
    let pwned = browser
        .client
        .execute("return typeof window.pwned", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!("undefined"), "the comment ran nothing");
    browser.screenshots("console/reports").await;

    // `h` hides the selected comment.
    browser
        .wait_for("#reports li.card.selected")
        .await
        .send_keys("h")
        .await
        .unwrap();
    browser.wait_gone("#reports li.card").await;
    let seen = app
        .get_as(&format!("/api/v1/comments/{comment}"), &moderator.access)
        .await;
    assert_eq!(seen.json()["status"], "hidden");

    // Users: find the writer, ban them for a day.
    browser.click("a[href='#/users']").await;
    browser.type_into("input[name=q]", "troll").await;
    browser.click("form[role=search] button").await;
    browser
        .click(&format!("#users a[href='#/users/{}']", writer.user_id))
        .await;
    browser.wait_for("#ban").await;
    browser.screenshots("console/user").await;
    browser
        .type_into("#ban input[name=reason]", "abuse in the comments")
        .await;
    browser.click("#ban button[type=submit]").await;
    browser.wait_for("#unban").await;
    let banned = app
        .get_as("/api/v1/admin/users?q=troll", &moderator.access)
        .await
        .json();
    let account = &banned["items"][0];
    assert_eq!(account["banned"], true, "{account}");
    let until = chrono::DateTime::parse_from_rfc3339(account["banned_until"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let hours = (until - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.0..=24.1).contains(&hours), "a day's ban: {hours} h");

    // Discussions: find the topic by a word of its title (another form of it), lock it.
    browser.click("a[href='#/discussions']").await;
    browser.type_into("input[name=q]", "rockets").await;
    browser.click("form[role=search] button").await;
    browser
        .wait_for(&format!(
            "li[data-discussion='{topic}'] button[data-action=lock]"
        ))
        .await;
    browser.screenshots("console/discussions").await;
    browser
        .click(&format!(
            "li[data-discussion='{topic}'] button[data-action=lock]"
        ))
        .await;
    browser
        .wait_for(&format!(
            "li[data-discussion='{topic}'] button[data-action=unlock]"
        ))
        .await;
    let shown = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(shown["locked"], true);

    // Pending comments: the queue is a page too.
    browser.click("a[href='#/pending']").await;
    browser.wait_for("#pending").await;
    browser.screenshots("console/pending").await;

    // The audit log holds each action, by her.
    browser.click("a[href='#/audit']").await;
    browser.type_into("input[name=moderator]", "marta").await;
    browser.click("#view form button[type=submit]").await;
    let log = browser
        .text_with("#audit table", "abuse in the comments")
        .await;
    for action in ["hid", "banned", "locked"] {
        assert!(log.contains(action), "`{action}` in the log: {log}");
    }
    assert!(log.contains("abuse in the comments"), "{log}");
    browser.screenshots("console/audit").await;

    // Signing out ends the browser's session on the server.
    let live = |res: crate::helpers::Response| res.json()["items"].as_array().unwrap().len();
    let before = live(app.sessions(&moderator.access).await);
    browser.click("#signout").await;
    browser.wait_for("#signin").await;
    let mut after = before;
    for _ in 0..50 {
        after = live(app.sessions(&moderator.access).await);
        if after < before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(after, before - 1, "the console's session ended");
    browser.screenshots("console/signin").await;
    browser.close().await;
}

#[actix_web::test]
async fn a_reader_cannot_get_in_and_the_console_speaks_russian() {
    let app = TestApp::spawn().await;
    app.first_admin().await;
    app.signed_up("reader").await;
    app.with_role("moder", "moderator").await;
    let Some(browser) = Browser::open(&app, "ru-RU").await else {
        return;
    };
    browser.sign_in("reader").await;
    let refused = browser.text_with("#signin .error", "для модераторов").await;
    assert!(refused.contains("для модераторов"), "{refused}");
    assert_eq!(browser.count("#signout").await, 0, "not signed in");
    // The reader's session was ended: only the sign-in form is there.
    browser.sign_in("moder").await;
    let nav = browser.text_with("nav.pages", "Жалобы").await;
    assert!(nav.contains("Жалобы") && nav.contains("Журнал"), "{nav}");
    let empty = browser.text_with("#reports", "Открытых жалоб нет").await;
    assert!(empty.contains("Открытых жалоб нет"), "{empty}");
    browser.screenshots("console/reports-ru").await;
    browser.close().await;
}
