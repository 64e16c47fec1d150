//! The moderators' console (`/console/`) in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them), through
//! fantoccini. The screenshots in `docs/console.md` are taken here (`docs/console/*.png`).
//!
//! Without a browser on the machine the browser tests say so and pass: CI always has one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

/// Where chromedriver is: `$CHROMEDRIVER`, or Debian's.
fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

/// A headless Chromium of its own (its driver ends with it).
struct Browser {
    client: Client,
    driver: Child,
    base: String,
}

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

impl Browser {
    /// A browser whose reader speaks `lang`, or `None` (said why) where there is none.
    async fn open(app: &TestApp, lang: &str) -> Option<Browser> {
        let Some(driver_path) = chromedriver() else {
            eprintln!(
                "skipped: no chromedriver on this machine (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars",
                    format!("--lang={lang}"),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
                "prefs": { "intl.accept_languages": lang },
            }
        }))
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver,
                        base: app.address.clone(),
                    });
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a browser: {last_error:?}");
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until `css` matches nothing.
    async fn wait_gone(&self, css: &str) {
        for _ in 0..150 {
            if self.count(css).await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` stayed on the page");
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// The text of `css` once it holds `needle` (or what it holds after 15 s).
    async fn text_with(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            // The page may replace the element meanwhile: read it afresh each time.
            if let Ok(found) = self.client.find(Locator::Css(css)).await {
                text = found.text().await.unwrap_or_default();
            }
            if text.contains(needle) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        text
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    async fn sign_in(&self, login: &str) {
        self.goto("/console/").await;
        self.type_into("input[name=login]", login).await;
        self.type_into("input[name=password]", PASSWORD).await;
        self.click("#signin button[type=submit]").await;
    }

    /// Screenshots of the page at desktop and phone width, as `docs/console/{name}-*.png`.
    async fn screenshots(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        for (width, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.client.set_window_size(w, h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let png = self.client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .unwrap();
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

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
    browser.screenshots("reports").await;

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
    browser.click("#users a[href^='#/users/']").await;
    browser.wait_for("#ban").await;
    browser.screenshots("user").await;
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
    browser.screenshots("discussions").await;
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
    browser.screenshots("pending").await;

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
    browser.screenshots("audit").await;

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
    browser.screenshots("signin").await;
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
    browser.screenshots("reports-ru").await;
    browser.close().await;
}
