//! Reads served from memory are never stale: a thread page is kept by its thread's version
//! (bumped by a trigger at every change to a comment, or to a commenter's name), checked in
//! the database at every read, on every process; pooled connections that may have died with
//! the database are dropped without a ping at every checkout.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Every comment on a page, depth first.
fn comments(page: &Value) -> Vec<Value> {
    fn walk(items: &Value, into: &mut Vec<Value>) {
        for item in items.as_array().unwrap() {
            into.push(item.clone());
            walk(&item["children"], into);
        }
    }
    let mut all = Vec::new();
    walk(&page["items"], &mut all);
    all
}

#[actix_web::test]
async fn every_change_to_a_thread_shows_at_once_on_every_process() {
    let app = TestApp::spawn().await;
    // A second process of the same site, with its own page cache.
    let other = app.another_process(&[]).await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let moderator = app.with_role("mira", "moderator").await;
    let topic = app.topic(&anna.access, "Cached").await;
    let first = app
        .commented(&anna.access, topic, "First words", None)
        .await;

    // Both processes have the page in memory now.
    for process in [&app, &other] {
        for _ in 0..2 {
            let page = process.comments(topic, "").await.json();
            assert_eq!(comments(&page).len(), 1, "{page}");
        }
    }

    type Shows = Box<dyn Fn(&Value) -> bool>;
    let changes: Vec<(&str, Shows)> = vec![
        ("a reply", Box::new(|page| comments(page).len() == 2)),
        (
            "an edit",
            Box::new(move |page| comments(page)[0]["body"] == "Second thoughts"),
        ),
        ("a vote", Box::new(|page| comments(page)[0]["score"] == 1)),
        (
            "a hide",
            Box::new(|page| comments(page)[0]["status"] == "hidden"),
        ),
        (
            "a restore",
            Box::new(|page| comments(page)[0]["status"] == "visible"),
        ),
        (
            "a rename",
            Box::new(|page| comments(page)[0]["author"]["display_name"] == "Anna K."),
        ),
        (
            "a deletion",
            Box::new(|page| comments(page)[0]["status"] == "deleted"),
        ),
    ];
    for (change, shows) in changes {
        // Made through one process (or the database itself), read at once through both.
        match change {
            "a reply" => {
                app.commented(&boris.access, topic, "A reply", Some(first))
                    .await;
            }
            "an edit" => {
                let res = other
                    .edit_comment(&anna.access, first, "Second thoughts")
                    .await;
                assert_eq!(res.status, 200, "{}", res.text());
            }
            "a vote" => {
                let res = app.vote(&boris.access, first, 1).await;
                assert_eq!(res.status, 200, "{}", res.text());
            }
            "a hide" | "a restore" => {
                let action = if change == "a hide" {
                    "hide"
                } else {
                    "restore"
                };
                let body = json!({"reason": "testing"});
                let res = other
                    .moderate_comment(&moderator.access, first, action, Some(&body))
                    .await;
                assert_eq!(res.status, 200, "{}", res.text());
            }
            "a rename" => app.sql(&format!(
                "UPDATE users SET display_name = 'Anna K.' WHERE id = {}",
                anna.user_id
            )),
            _ => {
                let res = app.delete_comment(&anna.access, first).await;
                assert_eq!(res.status, 204, "{}", res.text());
            }
        }
        for process in [&app, &other] {
            let page = process.comments(topic, "").await.json();
            assert!(shows(&page), "{change} does not show: {page}");
        }
    }
    app.assert_counters_match_a_recount();
}

async fn if_none_match(app: &TestApp, path: &str, etag: &str) -> crate::helpers::Response {
    let request = app
        .client
        .get(app.url(path))
        .insert_header(("If-None-Match", etag));
    app.send(request, None).await
}

#[actix_web::test]
async fn thread_pages_carry_an_etag_that_moves_with_the_thread() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Tagged").await;
    app.commented(&anna.access, topic, "One", None).await;
    let path = format!("/api/v1/discussions/{topic}/comments");

    let first = app.get(&path).await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("an ETag").to_string();
    let again = if_none_match(&app, &path, &etag).await;
    assert_eq!(again.status, 304, "{}", again.text());

    app.commented(&anna.access, topic, "Two", None).await;
    let after = if_none_match(&app, &path, &etag).await;
    assert_eq!(after.status, 200, "a new comment makes a new page");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    assert_eq!(comments(&after.json()).len(), 2);
}

#[actix_web::test]
async fn readers_staff_and_demoted_tokens_each_get_their_own_page() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let reader = app.signed_up("reader").await;
    let moderator = app.with_role("mira", "moderator").await;
    let demoted = app.with_role("dora", "moderator").await;
    let topic = app.topic(&anna.access, "Mixed company").await;
    let rude = app.commented(&anna.access, topic, "rude words", None).await;
    let res = app
        .moderate_comment(
            &moderator.access,
            rude,
            "hide",
            Some(&json!({"reason": "rude"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.set_role(demoted.user_id, "user").await;
    let path = format!("/api/v1/discussions/{topic}/comments");

    // Each twice: the second answer comes from memory.
    for _ in 0..2 {
        let as_moderator = app.get_as(&path, &moderator.access).await.json();
        assert_eq!(comments(&as_moderator)[0]["body"], "rude words");
        let as_reader = app.get_as(&path, &reader.access).await.json();
        assert_eq!(comments(&as_reader)[0]["body"], Value::Null);
        let anonymous = app.get(&path).await.json();
        assert_eq!(comments(&anonymous)[0]["body"], Value::Null);
        // Its token still says moderator; the database no longer does.
        let as_demoted = app.get_as(&path, &demoted.access).await.json();
        assert_eq!(comments(&as_demoted)[0]["body"], Value::Null);
    }
}

/// PostgreSQL: every connection of the site's database killed at once (as a restart or a
/// failover does). The health probe's own connection dies too, so the pool drops every
/// connection made before; after a moment, no request meets a dead one.
#[actix_web::test]
async fn connections_killed_by_the_server_are_replaced_without_errors() {
    let app = TestApp::spawn_with(&[("TRIBUNE_FEED_CACHE_MS", "0")]).await;
    if !app.db.is_postgres() {
        eprintln!("skipped: PostgreSQL only (SQLite has no server to kill connections)");
        return;
    }
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Before").await;
    // Fill the pool: concurrent reads check out several connections.
    let reads: Vec<_> = (0..8).map(|_| app.feed("")).collect();
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.status, 200);
    }
    app.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    // The probe looks every 100 ms.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(400)).await;
    for _ in 0..3 {
        let reads: Vec<_> = (0..8).map(|_| app.feed("")).collect();
        for res in futures_util::future::join_all(reads).await {
            assert_eq!(res.status, 200, "{}", res.text());
        }
    }
    let res = app.comment(&anna.access, topic, "After", None).await;
    assert_eq!(res.status, 201, "{}", res.text());
}
