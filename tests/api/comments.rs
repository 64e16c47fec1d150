use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens};

fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// Every comment of a page, depth first, as `(id, parent_id, depth)`.
fn flatten(items: &Value, out: &mut Vec<(i64, Option<i64>, i64)>) {
    for c in items.as_array().unwrap() {
        out.push((
            c["id"].as_i64().unwrap(),
            c["parent_id"].as_i64(),
            c["depth"].as_i64().unwrap(),
        ));
        flatten(&c["children"], out);
    }
}

#[actix_web::test]
async fn replies_nest_and_the_depth_is_capped() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Тред").await;

    let root = app.commented(&anna.access, topic, "root", None).await;
    // A chain of replies, each to the last, longer than the cap allows.
    let mut chain = vec![root];
    for n in 1..=10 {
        let last = *chain.last().unwrap();
        let res = app
            .comment(&anna.access, topic, &format!("reply {n}"), Some(last))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let comment = res.json();
        let depth = comment["depth"].as_i64().unwrap();
        assert_eq!(depth, n.min(7), "reply {n}");
        if n <= 7 {
            assert_eq!(
                comment["parent_id"], last,
                "reply {n} attaches to its target"
            );
        } else {
            // Past the cap: a sibling of the target, under the deepest allowed ancestor.
            assert_eq!(comment["parent_id"], chain[6], "reply {n}");
        }
        chain.push(comment["id"].as_i64().unwrap());
    }
    let sibling = app
        .commented(&anna.access, topic, "second root", None)
        .await;

    let page = app.comments(topic, "").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    assert_eq!(ids(&page["items"]), vec![root, sibling]);
    assert_eq!(page["next_cursor"], Value::Null);
    let mut all = Vec::new();
    flatten(&page["items"], &mut all);
    assert_eq!(all.len(), 12, "every comment once: {all:?}");
    // Nesting follows parent_id, and a child sits one level below its parent.
    let mut node = &page["items"][0];
    for depth in 1..=6 {
        node = &node["children"][0];
        assert_eq!(node["depth"], depth);
    }
    let at_six = node;
    assert_eq!(at_six["id"], chain[6]);
    let under_six = ids(&at_six["children"]);
    assert_eq!(under_six, vec![chain[7], chain[8], chain[9], chain[10]]);
    assert_eq!(page["items"][0]["author"]["username"], "anna");
    assert_eq!(page["items"][0]["status"], "visible");
    assert_eq!(page["items"][0]["discussion_id"], topic);

    // A reply must name a comment of the same discussion.
    let other = app.topic(&anna.access, "Другой").await;
    let problem = app
        .comment(&anna.access, other, "elsewhere", Some(root))
        .await
        .problem(422);
    assert!(problem["errors"]["parent_id"].is_array(), "{problem}");
    app.comment(&anna.access, topic, "x", Some(999_999))
        .await
        .problem(422);
    // One comment is its own permalink, with its replies.
    let one = app
        .get(&format!("/api/v1/comments/{}", chain[6]))
        .await
        .json();
    assert_eq!(ids(&one["children"]), under_six);
    app.get("/api/v1/comments/999999").await.problem(404);
    app.comments(999_999, "").await.problem(404);
}

#[actix_web::test]
async fn roots_page_by_keyset_in_both_orders_without_gaps() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let topic = app.topic(&anna.access, "Paging").await;
    let mut roots = Vec::new();
    for n in 0..25 {
        let id = app
            .commented(&anna.access, topic, &format!("root {n}"), None)
            .await;
        if n % 4 == 0 {
            app.commented(&boris.access, topic, "a reply", Some(id))
                .await;
        }
        roots.push(id);
    }
    for (sort, expected) in [
        ("oldest", roots.clone()),
        ("newest", roots.iter().rev().copied().collect()),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                Some(c) => format!("?sort={sort}&limit=10&cursor={c}"),
                None => format!("?sort={sort}&limit=10"),
            };
            let page = app.comments(topic, &query).await;
            assert_eq!(page.status, 200, "{}", page.text());
            let page = page.json();
            for item in page["items"].as_array().unwrap() {
                let replies = item["children"].as_array().unwrap().len();
                let n = roots.iter().position(|r| *r == item["id"]).unwrap();
                assert_eq!(replies, usize::from(n % 4 == 0), "root {n}");
            }
            seen.extend(ids(&page["items"]));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{sort}: every root once, in order");
        assert_eq!(pages, 3, "{sort}");
    }
    // The default order is oldest first; cursors are opaque and bound to their order.
    let first = app.comments(topic, "?limit=2").await.json();
    assert_eq!(ids(&first["items"]), roots[..2].to_vec());
    let cursor = first["next_cursor"].as_str().unwrap();
    app.comments(topic, &format!("?sort=newest&cursor={cursor}"))
        .await
        .problem(400);
    app.comments(topic, "?cursor=garbage").await.problem(400);
    app.comments(topic, "?limit=0").await.problem(400);
    app.comments(topic, "?sort=best").await.problem(400);
}

#[actix_web::test]
async fn a_comment_bumps_its_discussion_and_the_counters() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let older = app.topic(&anna.access, "Older").await;
    let newer = app.topic(&anna.access, "Newer").await;
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][0]["id"], newer);

    app.commented(&boris.access, older, "Bump.", None).await;
    let feed = app.feed("").await.json();
    assert_eq!(feed["items"][0]["id"], older, "the commented one rises");
    assert_eq!(feed["items"][0]["replies"], 1);
    let discussion = app
        .get(&format!("/api/v1/discussions/{older}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1);
    assert_eq!(app.profile("boris").await.json()["comments_count"], 1);
    assert_eq!(app.profile("anna").await.json()["comments_count"], 0);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn articles_take_comments_by_slug() {
    let app = TestApp::spawn().await;
    let editor = app.editor("editor").await;
    let reader = app.signed_up("reader").await;
    let res = app
        .create_article(
            &editor.access,
            &json!({"title": "Финляндия готовится к встрече", "lead": "Lead.", "body": "Body."}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let article = res.json();
    let slug = article["slug"].as_str().unwrap();
    let path = format!("/api/v1/articles/{slug}/comments");
    let res = app
        .send_json(
            "POST",
            &path,
            Some(&reader.access),
            Some(&json!({"body": "Интересно."})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let comment = res.json();
    assert_eq!(comment["discussion_id"], article["discussion_id"]);
    let page = app.get(&path).await.json();
    assert_eq!(ids(&page["items"]), vec![comment["id"].as_i64().unwrap()]);
    assert_eq!(page["items"][0]["body"], "Интересно.");
    let article = app.get(&format!("/api/v1/articles/{slug}")).await.json();
    assert_eq!(article["replies"], 1);
    app.get("/api/v1/articles/no-such-article/comments")
        .await
        .problem(404);

    // Deleting the article deletes its discussion and every comment in it.
    let res = app
        .send_json(
            "DELETE",
            &format!("/api/v1/articles/{slug}"),
            Some(&editor.access),
            None,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments"),
        0
    );
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn markdown_comes_out_sanitized() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "XSS").await;
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<p style=\"background:url(javascript:alert(1))\" onclick=\"alert(1)\">x</p>",
    ];
    for payload in payloads {
        let res = app.comment(&anna.access, topic, payload, None).await;
        assert_eq!(res.status, 201, "{}", res.text());
        let comment = res.json();
        assert_eq!(comment["body"], payload, "the Markdown is kept as written");
        let html = comment["body_html"].as_str().unwrap().to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onload",
            "onclick",
            "javascript:",
            "data:",
            "<iframe",
            "style=",
        ] {
            assert!(!html.contains(bad), "{payload} -> {html}");
        }
    }
    let comment = app
        .comment(
            &anna.access,
            topic,
            "**bold** and [a link](https://example.com)",
            None,
        )
        .await
        .json();
    let html = comment["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(
        html.contains("rel=\"nofollow ugc noopener noreferrer\""),
        "{html}"
    );
    // What the list serves is what was rendered at write time.
    let page = app.comments(topic, "?limit=100").await.json();
    let last = page["items"].as_array().unwrap().last().unwrap();
    assert_eq!(last["body_html"], comment["body_html"]);
}

#[actix_web::test]
async fn bad_bodies_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Bodies").await;
    for body in ["", "   \n\t ", &"я".repeat(10_001)] {
        let problem = app
            .comment(&anna.access, topic, body, None)
            .await
            .problem(422);
        assert!(problem["errors"]["body"].is_array(), "{problem}");
    }
    let res = app
        .comment(&anna.access, topic, &"я".repeat(10_000), None)
        .await;
    assert_eq!(res.status, 201, "10,000 characters are fine");
    let path = format!("/api/v1/discussions/{topic}/comments");
    app.send_json("POST", &path, Some(&anna.access), Some(&json!({"body": 5})))
        .await
        .problem(422);
    app.send_json("POST", &path, Some(&anna.access), Some(&json!({})))
        .await
        .problem(422);
    app.send_json("POST", &path, None, Some(&json!({"body": "hi"})))
        .await
        .problem(401);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn locked_discussions_and_banned_accounts_take_no_comments() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let topic = app.topic(&anna.access, "Locked").await;
    let root = app.commented(&boris.access, topic, "before", None).await;
    app.sql(&format!(
        "UPDATE discussions SET locked = TRUE WHERE id = {topic}"
    ));
    let problem = app
        .comment(&boris.access, topic, "after", None)
        .await
        .problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("locked"),
        "{problem}"
    );
    app.comment(&boris.access, topic, "reply", Some(root))
        .await
        .problem(403);
    app.edit_comment(&boris.access, root, "edited")
        .await
        .problem(403);

    let open = app.topic(&anna.access, "Open").await;
    app.sql(&format!(
        "UPDATE users SET banned_at = CURRENT_TIMESTAMP WHERE id = {}",
        boris.user_id
    ));
    let problem = app
        .comment(&boris.access, open, "hi", None)
        .await
        .problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("banned"),
        "{problem}"
    );
    app.assert_counters_match_a_recount();
    assert_eq!(app.profile("boris").await.json()["comments_count"], 1);
}

#[actix_web::test]
async fn authors_edit_within_the_window_and_moderators_at_any_time() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let moderator = app.with_role("mod", "moderator").await;
    let topic = app.topic(&anna.access, "Edits").await;
    let id = app.commented(&anna.access, topic, "first text", None).await;

    let res = app.edit_comment(&anna.access, id, "**second** text").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let edited = res.json();
    assert_eq!(edited["body"], "**second** text");
    assert!(
        edited["body_html"]
            .as_str()
            .unwrap()
            .contains("<strong>second</strong>")
    );
    assert!(edited["edited_at"].is_string());
    app.edit_comment(&boris.access, id, "not mine")
        .await
        .problem(403);
    app.edit_comment(&anna.access, id, " ").await.problem(422);
    app.edit_comment(&anna.access, 999_999, "x")
        .await
        .problem(404);

    // Past the window, the author may not; a moderator still may.
    let sixteen_minutes_earlier = if app.db.is_postgres() {
        "created_at - INTERVAL '16 minutes'"
    } else {
        "datetime(created_at, '-16 minutes')"
    };
    app.sql(&format!(
        "UPDATE comments SET created_at = {sixteen_minutes_earlier} WHERE id = {id}"
    ));
    let problem = app
        .edit_comment(&anna.access, id, "too late")
        .await
        .problem(403);
    assert!(
        problem["detail"].as_str().unwrap().contains("15 minutes"),
        "{problem}"
    );
    let res = app.edit_comment(&moderator.access, id, "moderated").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let page = app.comments(topic, "").await.json();
    assert_eq!(page["items"][0]["body"], "moderated");
}

#[actix_web::test]
async fn deleting_keeps_the_tree_and_the_counters_right() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let moderator = app.with_role("mod", "moderator").await;
    let topic = app.topic(&anna.access, "Deletions").await;
    let root = app.commented(&anna.access, topic, "root text", None).await;
    let reply = app
        .commented(&boris.access, topic, "reply text", Some(root))
        .await;
    let other = app
        .commented(&boris.access, topic, "other text", None)
        .await;

    app.delete_comment(&boris.access, root).await.problem(403);
    app.delete_comment(&anna.access, 999_999).await.problem(404);
    let res = app.delete_comment(&anna.access, root).await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app.delete_comment(&anna.access, root).await;
    assert_eq!(res.status, 204, "deleting twice is fine");
    let res = app.delete_comment(&moderator.access, other).await;
    assert_eq!(res.status, 204, "{}", res.text());

    let page = app.comments(topic, "").await.json();
    assert_eq!(
        ids(&page["items"]),
        vec![root, other],
        "deleted ones keep their place"
    );
    let deleted = &page["items"][0];
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["body"], Value::Null);
    assert_eq!(deleted["body_html"], Value::Null);
    assert_eq!(deleted["author"], Value::Null);
    assert_eq!(ids(&deleted["children"]), vec![reply], "its replies stay");
    assert_eq!(deleted["children"][0]["body"], "reply text");
    assert_eq!(page["items"][1]["status"], "deleted");
    // The author's own deletion erases the text; a moderator's keeps it on record.
    assert_eq!(
        app.number(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments WHERE body IS NULL AND id = {root}"
        )),
        1
    );
    assert_eq!(
        app.number(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments WHERE body IS NOT NULL AND id = {other}"
        )),
        1
    );
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1, "only the visible reply counts");
    assert_eq!(app.profile("anna").await.json()["comments_count"], 0);
    assert_eq!(app.profile("boris").await.json()["comments_count"], 1);
    // A deleted comment takes no replies, no edits and no votes.
    app.comment(&boris.access, topic, "reply", Some(root))
        .await
        .problem(422);
    app.edit_comment(&anna.access, root, "back")
        .await
        .problem(403);
    app.vote(&boris.access, root, 1).await.problem(403);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn one_vote_per_user_and_none_on_ones_own() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let clara = app.signed_up("clara").await;
    let topic = app.topic(&anna.access, "Votes").await;
    let id = app.commented(&anna.access, topic, "vote on me", None).await;

    app.vote(&anna.access, id, 1).await.problem(403);
    let score = |res: crate::helpers::Response| {
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["score"].as_i64().unwrap()
    };
    assert_eq!(score(app.vote(&boris.access, id, 1).await), 1);
    assert_eq!(score(app.vote(&boris.access, id, 1).await), 1, "once");
    assert_eq!(score(app.vote(&boris.access, id, -1).await), -1, "replaced");
    assert_eq!(score(app.vote(&clara.access, id, -1).await), -2);
    assert_eq!(score(app.vote(&boris.access, id, 0).await), -1, "withdrawn");
    assert_eq!(score(app.vote(&boris.access, id, 0).await), -1);
    for bad in [
        json!({"value": 2}),
        json!({"value": -5}),
        json!({"value": "up"}),
        json!({}),
    ] {
        let res = app
            .send_json(
                "POST",
                &format!("/api/v1/comments/{id}/vote"),
                Some(&boris.access),
                Some(&bad),
            )
            .await;
        let problem = res.problem(422);
        assert!(problem["detail"].is_string(), "{problem}");
    }
    app.vote(&boris.access, 999_999, 1).await.problem(404);
    let page = app.comments(topic, "").await.json();
    assert_eq!(page["items"][0]["score"], -1);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn a_comment_is_reported_once_per_user() {
    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let topic = app.topic(&anna.access, "Reports").await;
    let id = app.commented(&anna.access, topic, "rude words", None).await;

    let res = app.report(&boris.access, id, "Insults").await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert_eq!(res.json()["status"], "open");
    app.report(&boris.access, id, "Again").await.problem(409);
    app.report(&anna.access, id, "Myself").await.problem(403);
    let problem = app.report(&boris.access, id, "  ").await.problem(422);
    assert!(problem["errors"]["reason"].is_array(), "{problem}");
    app.report(&boris.access, 999_999, "x").await.problem(404);
    assert_eq!(
        app.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comment_reports WHERE status = 'open'"
        ),
        1
    );
}

#[actix_web::test]
async fn an_account_may_post_a_few_comments_a_minute() {
    let app =
        TestApp::spawn_with(&[("TRIBUNE_RATE_LIMITS", "on"), ("TRIBUNE_COMMENT_RATE", "3")]).await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let topic = app.topic(&anna.access, "Flood").await;
    for n in 0..3 {
        app.commented(&anna.access, topic, &format!("{n}"), None)
            .await;
    }
    let res = app.comment(&anna.access, topic, "one too many", None).await;
    res.problem(429);
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Per account: someone else may still post.
    app.commented(&boris.access, topic, "me too", None).await;
    app.assert_counters_match_a_recount();
}

/// A server with two workers, four signed-up readers, their topic and its first comment.
async fn busy_topic() -> (TestApp, Vec<Tokens>, i64, i64) {
    let app = TestApp::spawn_with(&[("TRIBUNE_WORKERS", "2")]).await;
    let mut users = Vec::new();
    for name in ["user1", "user2", "user3", "user4"] {
        users.push(app.signed_up(name).await);
    }
    let topic = app.topic(&users[0].access, "Busy").await;
    let root = app.commented(&users[0].access, topic, "root", None).await;
    (app, users, topic, root)
}

#[actix_web::test]
async fn counters_hold_under_concurrent_writers() {
    let (app, users, topic, root) = busy_topic().await;
    let posts = users.iter().flat_map(|user| {
        let app = &app;
        (0..8).map(move |n| async move {
            let parent = (n % 2 == 0).then_some(root);
            app.commented(&user.access, topic, &format!("comment {n}"), parent)
                .await
        })
    });
    let posted = futures_util::future::join_all(posts).await;
    let votes = users[1..]
        .iter()
        .map(|user| app.vote(&user.access, root, 1));
    for res in futures_util::future::join_all(votes).await {
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let deletes = users
        .iter()
        .zip(posted.chunks(8))
        .map(|(user, mine)| app.delete_comment(&user.access, mine[0]));
    for res in futures_util::future::join_all(deletes).await {
        assert_eq!(res.status, 204, "{}", res.text());
    }
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1 + 32 - 4);
    app.assert_counters_match_a_recount();
}

/// On SQLite, writes waiting for the lock share a transaction, each in a savepoint: one that
/// fails after it has written (a reply to another discussion's comment is refused after the
/// discussion's counter moved) must be undone alone, and every acknowledged one kept.
#[actix_web::test]
async fn a_failed_write_among_concurrent_ones_is_undone_alone() {
    let (app, users, topic, root) = busy_topic().await;
    let elsewhere = app.topic(&users[1].access, "Elsewhere").await;
    let foreign = app
        .commented(&users[1].access, elsewhere, "not here", None)
        .await;
    let posts = users.iter().flat_map(|user| {
        let app = &app;
        (0..9).map(move |n| async move {
            let parent = [None, Some(root), Some(foreign)][n % 3];
            app.comment(&user.access, topic, &format!("comment {n}"), parent)
                .await
        })
    });
    let answers = futures_util::future::join_all(posts).await;
    let mut created = Vec::new();
    for (n, res) in answers.iter().enumerate() {
        if n % 9 % 3 == 2 {
            let problem = res.problem(422);
            assert!(problem["errors"]["parent_id"].is_array(), "{problem}");
        } else {
            assert_eq!(res.status, 201, "{}", res.text());
            created.push(res.json()["id"].as_i64().unwrap());
        }
    }
    assert_eq!(created.len(), 24);
    let discussion = app
        .get(&format!("/api/v1/discussions/{topic}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 1 + 24);
    for id in created {
        let res = app.get(&format!("/api/v1/comments/{id}")).await;
        assert_eq!(res.status, 200, "comment {id} was acknowledged and lost");
    }
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn a_page_never_carries_more_than_the_cap_and_big_threads_continue() {
    let app = TestApp::spawn_with(&[("TRIBUNE_COMMENT_PAGE_MAX", "5")]).await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Big threads").await;
    // Threads of 1, 3, 4, 12 and 1 comments; the fourth nests two levels.
    let mut roots = Vec::new();
    let mut total = 0;
    for size in [1, 3, 4, 12, 1] {
        let root = app.commented(&anna.access, topic, "root", None).await;
        let mut last = root;
        for n in 1..size {
            let parent = if n % 3 == 0 { last } else { root };
            last = app
                .commented(&anna.access, topic, "reply", Some(parent))
                .await;
        }
        roots.push((root, size));
        total += size;
    }
    for sort in ["oldest", "newest"] {
        let mut seen: Vec<i64> = Vec::new();
        let mut seen_roots = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = app
                .comments(topic, &format!("?sort={sort}&limit=10{cursor}"))
                .await;
            assert_eq!(page.status, 200, "{}", page.text());
            let page = page.json();
            let mut all = Vec::new();
            flatten(&page["items"], &mut all);
            assert!(all.len() <= 5, "{sort}: {all:?}");
            assert!(!all.is_empty(), "{sort}: no empty page before the end");
            for item in page["items"].as_array().unwrap() {
                let id = item["id"].as_i64().unwrap();
                match item["parent_id"].as_i64() {
                    // A root: its thread is whole, unless larger than a page.
                    None => {
                        let size = roots.iter().find(|(r, _)| *r == id).unwrap().1;
                        let mut thread = Vec::new();
                        flatten(&json!([item]), &mut thread);
                        assert_eq!(thread.len(), size.min(5), "{sort}: thread {id}");
                        seen_roots.push(id);
                    }
                    // The rest of a large thread: under a comment of an earlier page.
                    Some(parent) => assert!(seen.contains(&parent), "{sort}: {item}"),
                }
            }
            seen.extend(all.iter().map(|(id, _, _)| *id));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        let mut expected: Vec<i64> = roots.iter().map(|(r, _)| *r).collect();
        if sort == "newest" {
            expected.reverse();
        }
        assert_eq!(seen_roots, expected, "{sort}: every root once, in order");
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(
            (seen.len(), unique.len()),
            (total, total),
            "{sort}: every comment once"
        );
    }
    // A cursor inside a thread must be one the API gave.
    let forged = base64_url(&format!("o:{}:12345", roots[3].0));
    app.comments(topic, &format!("?cursor={forged}"))
        .await
        .problem(400);
    for root in ["-5", "99999999999999", "x"] {
        let forged = base64_url(&format!("o:{root}:"));
        app.comments(topic, &format!("?cursor={forged}"))
            .await
            .problem(400);
    }
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[actix_web::test]
async fn a_new_comment_is_announced_on_the_live_stream() {
    use futures_util::StreamExt;
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Live").await;
    let mut stream = app
        .client
        .get(app.url("/api/v1/discussions/stream"))
        .send()
        .await
        .unwrap();
    let _hello = stream.next().await.unwrap().unwrap();
    app.commented(&anna.access, topic, "Live comment", None)
        .await;
    // (On PostgreSQL the topic's own `created` may come first: events are relayed.)
    let mut received = String::new();
    let event = loop {
        let chunk = actix_web::rt::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
        let activity = received
            .split("\n\n")
            .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter_map(|data| serde_json::from_str::<Value>(data).ok())
            .find(|event| event["event"] == "activity");
        if let Some(event) = activity {
            break event;
        }
    };
    assert_eq!(event["event"], "activity");
    assert_eq!(event["id"], topic);
    assert_eq!(event["replies"], 1);
}

#[actix_web::test]
async fn a_scheduled_articles_thread_is_hidden_from_readers() {
    let app = TestApp::spawn().await;
    let editor = app.editor("editor").await;
    let reader = app.signed_up("reader").await;
    let res = app
        .create_article(
            &editor.access,
            &json!({"title": "Embargoed", "lead": "Lead.", "body": "Body.",
                    "published_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let article = res.json();
    let path = format!(
        "/api/v1/articles/{}/comments",
        article["slug"].as_str().unwrap()
    );
    let discussion = article["discussion_id"].as_i64().unwrap();
    // Readers cannot tell it from an article that does not exist.
    let hidden = app.get(&path).await.problem(404);
    let missing = app
        .get("/api/v1/articles/no-such-article/comments")
        .await
        .problem(404);
    assert_eq!(hidden["detail"], missing["detail"]);
    app.send_json(
        "POST",
        &path,
        Some(&reader.access),
        Some(&json!({"body": "early"})),
    )
    .await
    .problem(404);
    app.comments(discussion, "").await.problem(404);
    // Editors see it, and may comment before publication.
    let res = app
        .send_json(
            "POST",
            &path,
            Some(&editor.access),
            Some(&json!({"body": "note"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    assert_eq!(app.get_as(&path, &editor.access).await.status, 200);
    // Its comments stay out of readers' reach too.
    app.get(&format!("/api/v1/comments/{id}"))
        .await
        .problem(404);
    app.vote(&reader.access, id, 1).await.problem(404);
    app.report(&reader.access, id, "spam").await.problem(404);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn moderators_are_not_rate_limited_and_limits_are_checked() {
    let app =
        TestApp::spawn_with(&[("TRIBUNE_RATE_LIMITS", "on"), ("TRIBUNE_COMMENT_RATE", "1")]).await;
    let moderator = app.with_role("mod", "moderator").await;
    let topic = app.topic(&moderator.access, "Notes").await;
    for n in 0..3 {
        app.commented(&moderator.access, topic, &format!("note {n}"), None)
            .await;
    }
    app.comments(topic, "?limit=101").await.problem(400);
    // A deleted comment cannot be reported.
    let reader = app.signed_up("reader").await;
    let id = app.commented(&reader.access, topic, "mine", None).await;
    assert_eq!(app.delete_comment(&reader.access, id).await.status, 204);
    app.report(&moderator.access, id, "gone").await.problem(403);
}

#[actix_web::test]
async fn deleting_an_article_while_readers_comment_keeps_the_counters() {
    let app = TestApp::spawn_with(&[("TRIBUNE_WORKERS", "2")]).await;
    let editor = app.editor("editor").await;
    let mut readers = Vec::new();
    for n in 0..4 {
        readers.push(app.signed_up(&format!("reader{n}")).await);
    }
    let article = app
        .create_article(
            &editor.access,
            &json!({"title": "Short-lived", "lead": "L.", "body": "B."}),
        )
        .await
        .json();
    let slug = article["slug"].as_str().unwrap().to_string();
    let path = format!("/api/v1/articles/{slug}/comments");
    for reader in &readers {
        app.send_json(
            "POST",
            &path,
            Some(&reader.access),
            Some(&json!({"body": "early"})),
        )
        .await;
    }
    let posts = readers.iter().flat_map(|reader| {
        let (app, path) = (&app, &path);
        (0..5).map(move |_| async move {
            app.send_json(
                "POST",
                path,
                Some(&reader.access),
                Some(&json!({"body": "racing"})),
            )
            .await
            .status
        })
    });
    let delete = async {
        app.send_json(
            "DELETE",
            &format!("/api/v1/articles/{slug}"),
            Some(&editor.access),
            None,
        )
        .await
        .status
    };
    let (statuses, deleted) =
        futures_util::future::join(futures_util::future::join_all(posts), delete).await;
    assert_eq!(deleted, 204);
    for status in statuses {
        assert!(status == 201 || status == 404, "{status}");
    }
    app.assert_counters_match_a_recount();
    for n in 0..4 {
        assert_eq!(
            app.profile(&format!("reader{n}")).await.json()["comments_count"],
            0
        );
    }
}

#[actix_web::test]
async fn votes_and_reports_are_rate_limited_per_account() {
    let app = TestApp::spawn_with(&[
        ("TRIBUNE_RATE_LIMITS", "on"),
        ("TRIBUNE_VOTE_RATE", "2"),
        ("TRIBUNE_REPORT_RATE", "1"),
    ])
    .await;
    let anna = app.signed_up("anna").await;
    let boris = app.signed_up("boris").await;
    let topic = app.topic(&anna.access, "Busy").await;
    let id = app.commented(&anna.access, topic, "vote", None).await;
    let other = app.commented(&anna.access, topic, "other", None).await;
    assert_eq!(app.vote(&boris.access, id, 1).await.status, 200);
    assert_eq!(app.vote(&boris.access, id, -1).await.status, 200);
    let res = app.vote(&boris.access, id, 0).await;
    res.problem(429);
    assert!(res.header("retry-after").is_some());
    // Reports have a limit of their own.
    assert_eq!(app.report(&boris.access, id, "spam").await.status, 202);
    app.report(&boris.access, other, "spam").await.problem(429);
    // Someone else is not held back, nor is a moderator cleaning up.
    let clara = app.signed_up("clara").await;
    assert_eq!(app.vote(&clara.access, id, 1).await.status, 200);
    let moderator = app.with_role("mod", "moderator").await;
    for n in 0..3 {
        let spam = app
            .commented(&clara.access, topic, &format!("spam {n}"), None)
            .await;
        assert_eq!(
            app.delete_comment(&moderator.access, spam).await.status,
            204
        );
    }
}
