//! Full-text search: word forms in Russian and English, phrases, prefixes, what readers may
//! not see, the index following every write, bad queries, paging, and rebuilding the index.
//! The same assertions run on both backends: the same corpus gives the same answers.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Response, TestApp};

/// `q` percent-encoded for a query string.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(app: &TestApp, q: &str, extra: &str) -> Response {
    app.get(&format!("/api/v1/search?q={}{extra}", encode(q)))
        .await
}

/// `(kind, id)` of every result of a search that must succeed.
async fn found(app: &TestApp, q: &str, extra: &str) -> Vec<(String, i64)> {
    let res = search(app, q, extra).await;
    assert_eq!(res.status, 200, "{q:?}: {}", res.text());
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn kinds(hits: &[(String, i64)], kind: &str) -> BTreeSet<i64> {
    hits.iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, id)| *id)
        .collect()
}

struct Corpus {
    article: i64,
    article_slug: String,
    topic: i64,
    comment: i64,
    reader: String,
}

async fn corpus(app: &TestApp) -> Corpus {
    let editor = app.editor("editor").await;
    let res = app
        .create_article(
            &editor.access,
            &json!({
                "title": "Ракеты над Балтикой",
                "lead": "Missiles were launched near the coast.",
                "body": "The alliance is **concerned** about the launches.",
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let article = res.json();
    let anna = app.signed_up("anna").await;
    let topic = app
        .create_topic(
            &anna.access,
            "Ёлки в городе",
            "Где купить ёлку к празднику?",
        )
        .await;
    assert_eq!(topic.status, 201, "{}", topic.text());
    let topic = topic.json()["id"].as_i64().unwrap();
    let comment = app
        .commented(
            &anna.access,
            topic,
            "Две ракеты упали в море & всё < ничего, <b>говорят</b>.",
            None,
        )
        .await;
    Corpus {
        article: article["id"].as_i64().unwrap(),
        article_slug: article["slug"].as_str().unwrap().to_string(),
        topic,
        comment,
        reader: anna.access,
    }
}

#[actix_web::test]
async fn word_forms_case_and_yo_find_articles_topics_and_comments() {
    let app = TestApp::spawn().await;
    let c = corpus(&app).await;

    // «ракета» finds «Ракеты» in the article's title and «ракеты» in the comment.
    let hits = found(&app, "ракета ", "").await;
    assert_eq!(kinds(&hits, "article"), BTreeSet::from([c.article]));
    assert_eq!(kinds(&hits, "comment"), BTreeSet::from([c.comment]));
    // English word forms, in the lead and the Markdown body.
    assert_eq!(
        found(&app, "missile ", "").await,
        vec![("article".into(), c.article)]
    );
    assert_eq!(
        found(&app, "concern ", "").await,
        vec![("article".into(), c.article)]
    );
    // Case and ё/е folding, both ways.
    assert_eq!(
        found(&app, "елки ", "").await,
        vec![("topic".into(), c.topic)]
    );
    assert_eq!(
        found(&app, "ЁЛКУ ", "").await,
        vec![("topic".into(), c.topic)]
    );
    // The last word as the reader types it.
    assert_eq!(
        kinds(&found(&app, "раке", "").await, "comment"),
        BTreeSet::from([c.comment])
    );
    assert!(
        found(&app, "раке ", "").await.is_empty(),
        "a finished word is not a prefix"
    );
    // Phrases: these words, next to each other, in this order.
    assert_eq!(
        found(&app, "\"ракеты упали\"", "").await,
        vec![("comment".into(), c.comment)]
    );
    assert!(found(&app, "\"упали ракеты\"", "").await.is_empty());
    // Every word must match.
    assert!(found(&app, "ракеты ёлки", "").await.is_empty());
    // One kind only.
    assert_eq!(
        found(&app, "ракета ", "&type=comment").await,
        vec![("comment".into(), c.comment)]
    );

    // What a result says: where it is, who wrote it, and the words found, escaped.
    let res = search(&app, "ракета ", "&type=comment").await.json();
    let item = &res["items"][0];
    assert_eq!(item["discussion_id"], c.topic);
    assert_eq!(item["comment_id"], c.comment);
    assert_eq!(item["title"], "Ёлки в городе");
    assert_eq!(item["author"]["username"], "anna");
    assert_eq!(item["hidden"], false);
    assert!(
        item["created_at"].as_str().unwrap().ends_with('Z'),
        "{item}"
    );
    assert_eq!(
        item["snippet_html"],
        "Две <mark>ракеты</mark> упали в море &amp; всё &lt; ничего, говорят."
    );
    let res = search(&app, "missiles ", "").await.json();
    let item = &res["items"][0];
    assert_eq!(item["article_slug"], c.article_slug.as_str());
    assert_eq!(item["author"], Value::Null);
    assert!(
        item["snippet_html"]
            .as_str()
            .unwrap()
            .contains("<mark>Missiles</mark> were launched"),
        "{item}"
    );
}

#[actix_web::test]
async fn never_finds_what_a_reader_may_not_see() {
    let app = TestApp::spawn().await;
    let c = corpus(&app).await;
    let moderator = app.with_role("mod", "moderator").await;
    let editor = app.editor("editor2").await;

    // Hidden: gone for readers, found by moderators who ask, marked; back when restored.
    let res = app
        .moderate_comment(&moderator.access, c.comment, "hide", None)
        .await;
    assert!(res.status < 300, "{}", res.text());
    assert!(
        found(&app, "ракеты упали", "&type=comment")
            .await
            .is_empty()
    );
    search(&app, "ракеты", "&include_hidden=true")
        .await
        .problem(403);
    let res = app
        .get_as(
            &format!("/api/v1/search?q={}&include_hidden=true", encode("упали")),
            &c.reader,
        )
        .await;
    res.problem(403);
    let res = app
        .get_as(
            &format!("/api/v1/search?q={}&include_hidden=true", encode("упали")),
            &moderator.access,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["items"][0]["id"], c.comment);
    assert_eq!(res.json()["items"][0]["hidden"], true);
    let res = app
        .moderate_comment(&moderator.access, c.comment, "restore", None)
        .await;
    assert!(res.status < 300, "{}", res.text());
    assert_eq!(
        found(&app, "упали", "").await,
        vec![("comment".into(), c.comment)]
    );

    // Deleted by its author: its text is gone, for moderators too.
    let res = app.delete_comment(&c.reader, c.comment).await;
    assert!(res.status < 300, "{}", res.text());
    assert!(found(&app, "упали", "").await.is_empty());
    let res = app
        .get_as(
            &format!("/api/v1/search?q={}&include_hidden=true", encode("упали")),
            &moderator.access,
        )
        .await;
    assert_eq!(res.json()["items"], json!([]), "{}", res.text());

    // Scheduled articles are not found before they are published.
    let res = app
        .create_article(
            &editor.access,
            &json!({
                "title": "Секретный репортаж",
                "lead": "Embargoed until next year.",
                "body": "Nothing yet.",
                "published_at": "2099-01-01T06:00:00Z",
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(found(&app, "репортаж", "").await.is_empty());
    assert!(found(&app, "embargoed", "").await.is_empty());

    // Deleted topics, with their comments.
    let topic = app.topic(&c.reader, "Подводные лодки").await;
    let comment = app
        .commented(&c.reader, topic, "Подлодка всплыла.", None)
        .await;
    assert_eq!(
        kinds(&found(&app, "подлодки", "").await, "comment"),
        BTreeSet::from([comment])
    );
    let res = app.delete_topic_as_staff(&moderator.access, topic).await;
    assert!(res.status < 300, "{}", res.text());
    assert!(found(&app, "подводная", "").await.is_empty());
    assert!(found(&app, "подлодки", "").await.is_empty());
}

#[actix_web::test]
async fn the_index_follows_edits() {
    let app = TestApp::spawn().await;
    let c = corpus(&app).await;
    let res = app
        .edit_comment(&c.reader, c.comment, "Три танка на учениях.")
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(found(&app, "ракеты", "&type=comment").await.is_empty());
    assert_eq!(
        found(&app, "танки", "").await,
        vec![("comment".into(), c.comment)]
    );

    let res = app
        .send_json(
            "PATCH",
            &format!("/api/v1/discussions/{}", c.topic),
            Some(&c.reader),
            Some(&json!({"title": "Снег в городе", "body": "Когда выпадет снег?"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(found(&app, "ёлки", "").await.is_empty());
    assert_eq!(
        found(&app, "снега", "").await,
        vec![("topic".into(), c.topic)]
    );
}

#[actix_web::test]
async fn bad_queries_get_a_4xx_that_names_the_field() {
    let app = TestApp::spawn().await;
    corpus(&app).await;
    // No word at all: 422 naming q.
    for q in [
        "",
        "   ",
        "\"",
        "*",
        ":",
        "&",
        "|",
        "!",
        "()",
        "\"\"",
        "\0",
        "!*:&|()\"\0",
    ] {
        let res = search(&app, q, "").await;
        let problem = res.problem(422);
        assert!(problem["errors"]["q"].is_array(), "{q:?}: {problem}");
    }
    let res = app.get("/api/v1/search").await;
    assert!(res.problem(422)["errors"]["q"].is_array());
    let long = "ракета ".repeat(143);
    assert!(search(&app, &long, "").await.problem(422)["errors"]["q"].is_array());
    let many = "a b c d e f g h i j k";
    assert!(search(&app, many, "").await.problem(422)["errors"]["q"].is_array());
    // Syntax characters among words are only separators.
    for q in [
        "ракеты\"",
        "ракеты*",
        "ракеты:*",
        "ракеты & море",
        "ракеты | море",
        "!ракеты",
        "(ракеты)",
        "ракеты\0море",
        "NEAR(ракеты море)",
        "ракеты AND OR NOT",
        "'ракеты'",
        "ракеты -- ; DROP TABLE users",
    ] {
        let res = search(&app, q, "").await;
        assert_eq!(res.status, 200, "{q:?}: {}", res.text());
    }
    search(&app, "ракеты", "&type=people").await.problem(400);
    search(&app, "ракеты", "&cursor=nonsense")
        .await
        .problem(400);
    search(&app, "ракеты", "&limit=0").await.problem(400);
    search(&app, "ракеты", "&include_hidden=maybe")
        .await
        .problem(400);
}

#[actix_web::test]
async fn results_come_in_pages_best_first() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Погода").await;
    let mut comments = BTreeSet::new();
    for i in 0..25 {
        comments.insert(
            app.commented(
                &anna.access,
                topic,
                &format!("Прогноз номер {i}: дожди."),
                None,
            )
            .await,
        );
    }
    let titled = app.topic(&anna.access, "Дожди и грозы").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..4 {
        let extra = match &cursor {
            Some(c) => format!("&limit=10&cursor={c}"),
            None => "&limit=10".to_string(),
        };
        let page = search(&app, "дождь", &extra).await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["id"].as_i64().unwrap(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26, "{seen:?}");
    assert_eq!(kinds(&seen, "comment"), comments);
    // The title's match counts most; among equals, the newest first.
    assert_eq!(seen[0], ("topic".to_string(), titled), "{seen:?}");
    let newest = *comments.iter().next_back().unwrap();
    assert_eq!(seen[1], ("comment".to_string(), newest), "{seen:?}");
}

#[actix_web::test]
async fn the_index_is_rebuilt_by_the_command_and_after_the_migration() {
    let app = TestApp::spawn().await;
    let c = corpus(&app).await;
    app.sql("DELETE FROM search_documents");
    assert!(found(&app, "ракеты", "").await.is_empty());

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRIBUNE_CONFIG", "/dev/null")
        .env("DATABASE_URL", &app.db.url)
        .args(["search", "reindex"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("indexed 3 documents"), "{stdout}");
    assert_eq!(
        found(&app, "ракеты", "&type=comment").await,
        vec![("comment".into(), c.comment)]
    );

    // What the migration asks for: a process that starts on a database whose index is to be
    // built builds it before it serves.
    app.sql("DELETE FROM search_documents");
    app.sql("UPDATE settings SET value = 'rebuild' WHERE key = 'search_index'");
    let other = app.another_process(&[]).await;
    assert_eq!(
        found(&other, "ёлки", "").await,
        vec![("topic".into(), c.topic)]
    );
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM settings WHERE key = 'search_index' AND value = 'built'"),
        1
    );
}

#[actix_web::test]
async fn searches_are_limited_per_address() {
    let app =
        TestApp::spawn_with(&[("TRIBUNE_RATE_LIMITS", "on"), ("TRIBUNE_SEARCH_RATE", "3")]).await;
    for _ in 0..3 {
        assert_eq!(search(&app, "ракеты", "").await.status, 200);
    }
    let res = search(&app, "ракеты", "").await;
    res.problem(429);
    assert!(res.header("retry-after").is_some());
    // A query refused for its form costs nothing and counts nothing.
    search(&app, "!!!", "").await.problem(422);
}

/// A search ranks the newest hundred matches; one limited to a kind ranks that kind's newest,
/// so an older topic is found among topics past a hundred newer comments (on PostgreSQL the
/// first walks the documents newest first, the second the discussions' own index).
#[actix_web::test]
async fn a_kind_is_searched_past_newer_matches_of_other_kinds() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let old = app.topic(&anna.access, "Зебры в зоопарке").await;
    let other = app.topic(&anna.access, "Прочее").await;
    let mut newest = 0;
    for i in 0..105 {
        newest = app
            .commented(&anna.access, other, &format!("Зебра номер {i}."), None)
            .await;
    }
    let all = found(&app, "зебра", "&limit=20").await;
    assert_eq!(all.len(), 20, "{all:?}");
    assert_eq!(all[0], ("comment".to_string(), newest), "{all:?}");
    assert!(!all.contains(&("topic".to_string(), old)), "{all:?}");
    assert_eq!(
        found(&app, "зебра", "&type=topic").await,
        vec![("topic".to_string(), old)]
    );
    assert_eq!(found(&app, "зебра", "&type=comment&limit=5").await.len(), 5);

    // Paging past the hundred ranked: every result once, pages only add after the others.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = search(&app, "зебра", &format!("&limit=40{cursor}"))
            .await
            .json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["id"].as_i64().unwrap(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 106, "{seen:?}");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 106, "{seen:?}");
    assert_eq!(seen[105], ("topic".to_string(), old), "{seen:?}");

    // A wave of hidden comments hides nothing else: the newest matches are those readers see.
    app.sql(&format!(
        "UPDATE comments SET status = 'hidden' WHERE discussion_id = {other}"
    ));
    assert_eq!(
        found(&app, "зебра", "").await,
        vec![("topic".to_string(), old)]
    );
}

/// Moderators' discussion search ranks every match: an old topic whose title has the word
/// comes before a hundred newer topics that only mention it.
#[actix_web::test]
async fn moderators_find_an_old_title_match_first() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let old = app.topic(&anna.access, "Кракен в порту").await;
    for i in 0..101 {
        let res = app
            .create_topic(
                &anna.access,
                &format!("Новость {i}"),
                "Говорят, видели кракена.",
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let moderator = app.with_role("mila", "moderator").await;
    let found = app
        .get_as(
            &format!("/api/v1/admin/discussions?q={}", encode("кракен")),
            &moderator.access,
        )
        .await
        .json();
    assert_eq!(found["items"][0]["id"], old, "{found}");
}
