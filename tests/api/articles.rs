use serde_json::json;

use crate::helpers::TestApp;

fn article(title: &str) -> serde_json::Value {
    json!({
        "title": title,
        "lead": "Riga. November 28. The alliance is concerned.",
        "body": "The North Atlantic Alliance is concerned about the information...",
        "dateline": "Riga. November 28",
        "source": "INTERFAX/BNS",
        "image_url": "https://images.example/riga.jpg",
        "image_credit": "© REUTERS",
        "rights_notice": "The rights to this material belong to the agency",
        "tags": ["NATO", "Latvia", "Jens Stoltenberg"],
    })
}

#[actix_web::test]
async fn an_editor_publishes_and_readers_read() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let res = app
        .create_article(
            &editor.access,
            &article("Генсек НАТО призвал Россию к деэскалации"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    let slug = created["slug"].as_str().unwrap();
    assert_eq!(slug, "gensek-nato-prizval-rossiiu-k-deeskalatsii");
    assert_eq!(
        created["tags"],
        json!(["Jens Stoltenberg", "Latvia", "NATO"])
    );
    assert_eq!(created["views"], 0);
    assert!(created["discussion_id"].is_i64());

    let list = app.get("/api/v1/articles").await;
    assert_eq!(list.status, 200);
    let items = list.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["slug"], slug);
    assert!(items[0].get("body").is_none());

    let page = app.get(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(page.status, 200);
    let page = page.json();
    assert_eq!(page["source"], "INTERFAX/BNS");
    assert_eq!(page["views"], 1);

    // Its discussion is in the feed, without an author.
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][0]["kind"], "article");
    assert_eq!(feed["items"][0]["article_slug"], slug);
    assert!(feed["items"][0]["author"].is_null());

    // Tags filter without regard to case.
    let tagged = app.get("/api/v1/articles?tag=latvia").await.json();
    assert_eq!(tagged["items"].as_array().unwrap().len(), 1);
    let other = app.get("/api/v1/articles?tag=estonia").await.json();
    assert!(other["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn readers_cannot_write_articles() {
    let app = TestApp::spawn().await;
    let reader = app.signed_up("reader").await;
    app.create_article(&reader.access, &article("Nope"))
        .await
        .problem(403);
    app.send_json("POST", "/api/v1/articles", None, Some(&article("Nope")))
        .await
        .problem(401);

    let editor = app.editor("chief").await;
    let slug = app
        .create_article(&editor.access, &article("Real news"))
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/articles/{slug}");
    app.send_json(
        "PATCH",
        &path,
        Some(&reader.access),
        Some(&json!({"title": "x"})),
    )
    .await
    .problem(403);
    app.send_json("DELETE", &path, Some(&reader.access), None)
        .await
        .problem(403);
}

#[actix_web::test]
async fn editors_update_and_delete() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let slug = app
        .create_article(&editor.access, &article("First title"))
        .await
        .json()["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/articles/{slug}");
    let res = app
        .send_json(
            "PATCH",
            &path,
            Some(&editor.access),
            Some(&json!({"title": "Second title", "dateline": null, "tags": ["Riga"]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["title"], "Second title");
    assert_eq!(body["slug"], slug.as_str());
    assert!(body["dateline"].is_null());
    assert_eq!(body["source"], "INTERFAX/BNS");
    assert_eq!(body["tags"], json!(["Riga"]));
    assert_eq!(
        app.feed("").await.json()["items"][0]["title"],
        "Second title"
    );

    assert_eq!(
        app.send_json("DELETE", &path, Some(&editor.access), None)
            .await
            .status,
        204
    );
    app.get(&path).await.problem(404);
    assert!(
        app.feed("").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn scheduled_articles_stay_hidden_until_published() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let mut body = article("Tomorrow's news");
    body["published_at"] = json!("2099-01-01T06:00:00Z");
    let res = app.create_article(&editor.access, &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let slug = res.json()["slug"].as_str().unwrap().to_string();

    assert!(
        app.get("/api/v1/articles").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        app.feed("").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .problem(404);
    let as_editor = app
        .get_as(&format!("/api/v1/articles/{slug}"), &editor.access)
        .await;
    assert_eq!(as_editor.status, 200);
}

#[actix_web::test]
async fn slugs_are_unique() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let first = app
        .create_article(&editor.access, &article("Same title"))
        .await
        .json();
    let second = app
        .create_article(&editor.access, &article("Same title"))
        .await
        .json();
    assert_eq!(first["slug"], "same-title");
    assert_eq!(second["slug"], "same-title-2");
    let mut body = article("Other");
    body["slug"] = json!("same-title");
    let res = app.create_article(&editor.access, &body).await;
    assert!(res.problem(409)["errors"]["slug"].is_array());
}

#[actix_web::test]
async fn article_fields_are_validated() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let mut body = article("Bad");
    body["image_url"] = json!("javascript:alert(1)");
    body["tags"] = json!(vec!["t"; 21]);
    body["title"] = json!("   ");
    let problem = app.create_article(&editor.access, &body).await.problem(422);
    for field in ["image_url", "tags", "title"] {
        assert!(problem["errors"][field].is_array(), "{field}: {problem}");
    }
    // Control characters are refused, as the schema's pattern says (U+0085 is one).
    let mut body = article("Controls");
    body["image_url"] = json!("http://x\u{0085}y");
    let problem = app.create_article(&editor.access, &body).await.problem(422);
    assert!(problem["errors"]["image_url"].is_array(), "{problem}");
    body["image_url"] = json!("http://x\u{0007}y");
    let problem = app.create_article(&editor.access, &body).await.problem(422);
    assert!(problem["errors"]["image_url"].is_array(), "{problem}");
    app.get("/api/v1/articles?cursor=garbage")
        .await
        .problem(400);
}
