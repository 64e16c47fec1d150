use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_topic_is_markdown_rendered_safely() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let res = app
        .create_topic(
            &author.access,
            "О защите от нападений с моря",
            "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let topic = res.json();
    assert_eq!(topic["kind"], "topic");
    assert_eq!(topic["title"], "О защите от нападений с моря");
    assert_eq!(topic["author"]["username"], "author");
    assert_eq!(topic["replies"], 0);
    let html = topic["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>Bold</strong>"), "{html}");
    for bad in ["<script", "javascript:", "onerror"] {
        assert!(!html.contains(bad), "{html}");
    }
    app.create_topic(&author.access, "", "body")
        .await
        .problem(422);
    app.create_topic(&author.access, "title", "   ")
        .await
        .problem(422);
    app.send_json(
        "POST",
        "/api/v1/discussions",
        None,
        Some(&json!({"title": "t", "body": "b"})),
    )
    .await
    .problem(401);
}

#[actix_web::test]
async fn the_feed_follows_last_activity() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let a = app.topic(&author.access, "A").await;
    let b = app.topic(&author.access, "B").await;
    let c = app.topic(&author.access, "C").await;
    assert_eq!(ids(&app.feed("").await.json()), vec![c, b, a]);

    // A comment in A moves it to the top, at once (the feed's cache is cleared).
    app.commented(&author.access, a, "First!", None).await;
    let page = app.feed("").await.json();
    assert_eq!(ids(&page), vec![a, c, b]);
    assert_eq!(page["items"][0]["replies"], 1);

    // Pinned first, whatever the activity.
    app.sql(&format!(
        "UPDATE discussions SET pinned = TRUE WHERE id = {b}"
    ));
    app.after_flush().await;
    let page = app.feed("").await.json();
    assert_eq!(ids(&page), vec![b, a, c]);
    assert_eq!(page["items"][0]["pinned"], true);
}

#[actix_web::test]
async fn the_feed_pages_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let mut created = Vec::new();
    for n in 0..25 {
        created.push(app.topic(&author.access, &format!("Topic {n}")).await);
    }
    // Two pinned ones, and a tie on the timestamp, to cross both segment and tie boundaries.
    app.sql(&format!(
        "UPDATE discussions SET pinned = TRUE WHERE id IN ({}, {})",
        created[3], created[17]
    ));
    app.sql(&format!(
        "UPDATE discussions SET last_activity_at = (SELECT last_activity_at FROM discussions WHERE id = {}) WHERE id = {}",
        created[10], created[11]
    ));
    let mut seen = Vec::new();
    let mut query = "?limit=10".to_string();
    let mut pages = 0;
    loop {
        let page = app.feed(&query).await.json();
        seen.extend(ids(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        25,
        "duplicates: {seen:?}"
    );
    assert_eq!(&seen[..2], &[created[17], created[3]]);
    let all = ids(&app.feed("?limit=100").await.json());
    assert_eq!(seen, all);

    for bad in [
        "?cursor=garbage",
        "?cursor=MTox",
        "?limit=0",
        "?limit=101",
        "?since=yesterday",
    ] {
        app.feed(bad).await.problem(400);
    }
}

#[actix_web::test]
async fn since_and_etag_serve_the_update_button() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    app.topic(&author.access, "Old").await;
    let first = app.feed("").await;
    let etag = first.header("etag").expect("an ETag").to_string();
    let since = first.json()["items"][0]["last_activity_at"]
        .as_str()
        .unwrap()
        .to_string();

    let request = app
        .client
        .get(app.url("/api/v1/discussions"))
        .insert_header(("If-None-Match", etag.clone()));
    let res = app.send(request, None).await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());

    let new = app.topic(&author.access, "New").await;
    let since_query = format!("?since={}", since.replace('+', "%2B"));
    let updates = app.feed(&since_query).await.json();
    assert_eq!(ids(&updates), vec![new]);

    let request = app
        .client
        .get(app.url("/api/v1/discussions"))
        .insert_header(("If-None-Match", etag.clone()));
    let res = app.send(request, None).await;
    assert_eq!(res.status, 200);
    assert_ne!(res.header("etag").unwrap(), etag);
}

#[actix_web::test]
async fn a_viewer_counts_once_a_day() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let reader = app.signed_up("reader").await;
    let id = app.topic(&author.access, "Watched").await;
    let path = format!("/api/v1/discussions/{id}");
    for _ in 0..3 {
        assert_eq!(app.get_as(&path, &reader.access).await.status, 200);
    }
    let shown = app.get_as(&path, &author.access).await.json();
    assert_eq!(shown["views"], 2);
    app.get(&path).await; // anonymous: counted by address
    app.get(&path).await;
    app.after_flush().await;
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][0]["views"], 3);
    assert_eq!(
        app.number(&format!(
            "SELECT views AS n FROM discussions WHERE id = {id}"
        )),
        3
    );
    app.get("/api/v1/discussions/999999").await.problem(404);
    app.get("/api/v1/discussions/abc").await.problem(400);
}

#[actix_web::test]
async fn topics_are_edited_by_their_author_within_the_window() {
    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let other = app.signed_up("other").await;
    let id = app.topic(&author.access, "Draft").await;
    let path = format!("/api/v1/discussions/{id}");
    let res = app
        .send_json(
            "PATCH",
            &path,
            Some(&author.access),
            Some(&json!({"body": "_edited_"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["title"], "Draft");
    assert_eq!(body["body_html"], "<p><em>edited</em></p>\n");
    assert!(body["edited_at"].is_string());
    app.send_json(
        "PATCH",
        &path,
        Some(&other.access),
        Some(&json!({"title": "Mine"})),
    )
    .await
    .problem(403);

    let closed = TestApp::spawn_with(&[("TRIBUNE_EDIT_WINDOW_MINUTES", "0")]).await;
    let author = closed.signed_up("author").await;
    let id = closed.topic(&author.access, "Too late").await;
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    closed
        .send_json(
            "PATCH",
            &format!("/api/v1/discussions/{id}"),
            Some(&author.access),
            Some(&json!({"title": "Changed"})),
        )
        .await
        .problem(403);
}

#[actix_web::test]
async fn live_events_arrive_within_a_second() {
    use futures_util::StreamExt;

    let app = TestApp::spawn().await;
    let author = app.signed_up("author").await;
    let mut stream = app
        .client
        .get(app.url("/api/v1/discussions/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let first = stream.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains(": connected"));

    let started = std::time::Instant::now();
    let id = app.topic(&author.access, "Breaking").await;
    let mut received = String::new();
    while !received.contains("\n\n") || !received.contains("event: discussion") {
        let chunk = actix_web::rt::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let data = received
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["event"], "created");
    assert_eq!(event["id"], id);
    assert_eq!(event["title"], "Breaking");
}

/// A reader whose requests reach two processes of the site counts once.
#[actix_web::test]
async fn a_viewer_counts_once_whichever_process_serves_them() {
    let one = TestApp::spawn().await;
    let two = one.another_process(&[]).await;
    let anna = one.signed_up("anna").await;
    let reader = one.signed_up("reader").await;
    let topic = one.topic(&anna.access, "Seen twice").await;
    let path = format!("/api/v1/discussions/{topic}");
    for app in [&one, &two, &one, &two] {
        assert_eq!(app.get_as(&path, &reader.access).await.status, 200);
    }
    one.after_flush().await;
    assert_eq!(
        one.number(&format!(
            "SELECT views AS n FROM discussions WHERE id = {topic}"
        )),
        1
    );
}
