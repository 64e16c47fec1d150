//! Views that mean readers: crawlers, link previews, scripts, `HEAD` and prefetches count
//! nothing; browsers and mobile apps count, once per viewer per day; the beacon.

use serde_json::json;

use crate::helpers::{Response, TestApp};

const CRAWLERS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.139 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
];

const SCRIPTS: &[&str] = &[
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Wget/1.21.4",
    "Go-http-client/1.1",
    "Java/17.0.9",
    "axios/1.6.2",
];

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 YaBrowser/24.12.0.0 Safari/537.36",
];

const APPS: &[&str] = &[
    "okhttp/4.12.0",
    "NewsApp/3.2 CFNetwork/1410.0.3 Darwin/22.6.0",
    "Dart/3.2 (dart:io)",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)",
    "Exponent/2.31.2 CFNetwork/1496.0.7 Darwin/23.5.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/468.0.0.43.104;FBBV/620016893;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
];

impl TestApp {
    /// A request for `path` with these headers (no `User-Agent` at all when `agent` is `None`).
    async fn request_as(
        &self,
        method: &str,
        path: &str,
        agent: Option<&str>,
        headers: &[(&str, &str)],
        token: Option<&str>,
    ) -> Response {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, self.url(path));
        request.headers_mut().remove("user-agent");
        if let Some(agent) = agent {
            request = request.insert_header(("User-Agent", agent));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        self.send(request, None).await
    }
}

/// The discussion's views as a crawler sees them (which adds none).
async fn views(app: &TestApp, id: i64) -> i64 {
    let res = app
        .request_as(
            "GET",
            &format!("/api/v1/discussions/{id}"),
            Some(CRAWLERS[0]),
            &[],
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["views"].as_i64().unwrap()
}

#[actix_web::test]
async fn only_readers_count_crawlers_scripts_head_and_prefetches_do_not() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let topic = app.topic(&author.access, "Counted").await;
    let path = format!("/api/v1/discussions/{topic}");

    for agent in CRAWLERS.iter().chain(SCRIPTS) {
        let res = app.request_as("GET", &path, Some(agent), &[], None).await;
        assert_eq!(res.status, 200, "{agent}: {}", res.text());
        assert_eq!(res.json()["views"], 0, "{agent} counted");
    }
    // No user agent at all: a script.
    app.request_as("GET", &path, None, &[], None).await;
    // A browser's prefetch, and a HEAD.
    let browser = BROWSERS[0];
    for header in ["Sec-Purpose", "Purpose"] {
        app.request_as("GET", &path, Some(browser), &[(header, "prefetch")], None)
            .await;
    }
    app.request_as("HEAD", &path, Some(browser), &[], None)
        .await;
    assert_eq!(views(&app, topic).await, 0);

    // Browsers and apps count, one per viewer per day.
    let mut expected = 0;
    for (i, agent) in BROWSERS.iter().chain(APPS).enumerate() {
        let reader = app.signed_up(&format!("reader{i}")).await;
        for _ in 0..2 {
            let res = app
                .request_as("GET", &path, Some(agent), &[], Some(&reader.access))
                .await;
            assert_eq!(res.status, 200, "{}", res.text());
        }
        expected += 1;
        assert_eq!(
            views(&app, topic).await,
            expected,
            "{agent} did not count once"
        );
    }

    // An article's page counts the same way.
    let editor = app.editor("editor").await;
    let article = app
        .create_article(
            &editor.access,
            &json!({"title": "News", "lead": "Lead", "body": "Body"}),
        )
        .await
        .json();
    let discussion = article["discussion_id"].as_i64().unwrap();
    let slug = article["slug"].as_str().unwrap();
    for agent in [CRAWLERS[4], SCRIPTS[0], BROWSERS[1]] {
        let res = app
            .request_as(
                "GET",
                &format!("/api/v1/articles/{slug}"),
                Some(agent),
                &[],
                None,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    assert_eq!(views(&app, discussion).await, 1);
}

#[actix_web::test]
async fn with_beacon_counting_only_the_pages_signal_counts() {
    let app = TestApp::spawn_with(&[("TRIBUNE_VIEW_COUNTING", "beacon")]).await;
    let author = app.signed_up("author").await;
    let topic = app.topic(&author.access, "Beacons").await;
    let page = format!("/api/v1/discussions/{topic}");
    let beacon = format!("/api/v1/discussions/{topic}/views");
    let browser = BROWSERS[2];

    app.request_as("GET", &page, Some(browser), &[], None).await;
    assert_eq!(views(&app, topic).await, 0, "a GET does not count");
    for agent in [CRAWLERS[1], SCRIPTS[1]] {
        let res = app
            .request_as("POST", &beacon, Some(agent), &[], None)
            .await;
        assert_eq!(res.status, 204, "{}", res.text());
    }
    assert_eq!(views(&app, topic).await, 0, "bots' beacons do not count");
    for _ in 0..3 {
        let res = app
            .request_as("POST", &beacon, Some(browser), &[], None)
            .await;
        assert_eq!(res.status, 204, "{}", res.text());
    }
    assert_eq!(views(&app, topic).await, 1, "one per viewer per day");
    let res = app
        .request_as(
            "POST",
            "/api/v1/discussions/99999999/views",
            Some(browser),
            &[],
            None,
        )
        .await;
    res.problem(404);
}
