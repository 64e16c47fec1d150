//! `tribune import disqus|wordpress`: real-format fixture exports (tests/fixtures/import),
//! imported by the real binary into the test's database, checked through the API.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};
use crate::smtp::{MailSink, token_in};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

impl TestApp {
    /// Runs `tribune import <vendor> <file> [args]` on this test's database.
    pub fn import(&self, vendor: &str, file: &Path, args: &[&str]) -> (bool, String) {
        let mut all: Vec<&std::ffi::OsStr> =
            vec!["import".as_ref(), vendor.as_ref(), file.as_ref()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        self.tribune(&all)
    }

    async fn article_with_slug(&self, token: &str, slug: &str, title: &str) -> i64 {
        let res = self
            .create_article(
                token,
                &json!({"title": title, "slug": slug, "lead": "Lead.", "body": "Body."}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["discussion_id"].as_i64().unwrap()
    }

    fn comment_count(&self) -> i64 {
        self.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments")
    }
}

fn bodies(thread: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(items: &Value, depth: usize, out: &mut Vec<String>) {
        for c in items.as_array().unwrap() {
            let body = c["body"].as_str().unwrap_or("(deleted)");
            out.push(format!("{}{}", "  ".repeat(depth), body));
            walk(&c["children"], depth + 1, out);
        }
    }
    walk(&thread["items"], 0, &mut out);
    out
}

#[actix_web::test]
async fn a_disqus_export_comes_in_with_its_threads_nesting_and_authors() {
    let sink = MailSink::start();
    let app = TestApp::spawn_with(&[("TRIBUNE_SMTP_URL", &sink.url())]).await;
    let editor = app.editor("chief").await;
    let rocket = app
        .article_with_slug(&editor.access, "rocket-launch", "Rocket launch")
        .await;
    let budget = app
        .article_with_slug(&editor.access, "budget-2027", "Budget 2027")
        .await;
    let map = app.db.dir().join("map.csv");
    std::fs::write(
        &map,
        "thread,slug\nhttps://news.example/?p=77,budget-2027\n",
    )
    .unwrap();
    let map = map.display().to_string();

    let (ok, out) = app.import("disqus", &fixture("disqus.xml"), &["--map", &map]);
    assert!(ok, "{out}");
    assert!(
        out.contains("2 matched to articles, 1 new articles"),
        "{out}"
    );
    assert!(out.contains("comments: 8 imported (1 as deleted placeholders, 1 replies without their parent as roots)"), "{out}");
    assert!(out.contains("skipped: 1 spam"), "{out}");

    // Nesting, order and dates as they were; spam gone; the reply to spam a root; the deleted
    // comment a placeholder holding its reply.
    let thread = app.comments(rocket, "").await.json();
    assert_eq!(
        bodies(&thread),
        [
            "Ракеты летят &amp; всё\n\nSecond paragraph",
            "  Boris answers Anna",
            "Answering the spammer",
            "(deleted)",
            "  Reply to the deleted one",
        ],
        "{thread}"
    );
    let first = &thread["items"][0];
    assert_eq!(first["created_at"], "2019-03-01T10:00:00Z");
    assert_eq!(first["author"]["display_name"], "Анна Петрова");
    assert!(
        first["body_html"]
            .as_str()
            .unwrap()
            .contains("<p>Ракеты летят &amp; всё</p>"),
        "{first}"
    );
    let discussion = app
        .get(&format!("/api/v1/discussions/{rocket}"))
        .await
        .json();
    assert_eq!(discussion["replies"], 4);
    let budget_thread = app.comments(budget, "").await.json();
    assert_eq!(bodies(&budget_thread), ["On the budget"]);
    // An article of its own for the thread that matched none; none for a thread without posts.
    let old = app.get("/api/v1/articles/page-123").await;
    assert_eq!(old.status, 200, "{}", old.text());
    assert_eq!(old.json()["title"], "Старая новость");
    let old_discussion = old.json()["discussion_id"].as_i64().unwrap();
    let old_discussion = app
        .get(&format!("/api/v1/discussions/{old_discussion}"))
        .await
        .json();
    // Dated as the old thread, active when its last comment was posted.
    assert_eq!(old_discussion["created_at"], "2018-05-20T10:00:00Z");
    assert_eq!(old_discussion["last_activity_at"], "2018-05-21T10:00:00Z");
    assert_eq!(old_discussion["replies"], 2);
    let old_thread = app.get("/api/v1/articles/page-123/comments").await.json();
    assert_eq!(
        bodies(&old_thread),
        [
            "Старый комментарий",
            "  A reply that comes before its parent"
        ]
    );
    assert_eq!(
        app.get("/api/v1/articles/nobody-commented").await.status,
        404
    );
    app.assert_counters_match_a_recount();
    // Anna's three comments are one account's.
    let anna = app
        .number("SELECT CAST(comments_count AS BIGINT) AS n FROM users WHERE email_key = 'anna@old.example'");
    assert_eq!(anna, 3);
    // Imported comments are found by search.
    let found = app
        .get("/api/v1/search?q=%D1%80%D0%B0%D0%BA%D0%B5%D1%82%D0%B0")
        .await
        .json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");

    // Again: nothing new.
    let before = app.comment_count();
    let (ok, out) = app.import("disqus", &fixture("disqus.xml"), &["--map", &map]);
    assert!(ok, "{out}");
    assert!(out.contains("comments: 0 imported"), "{out}");
    assert!(out.contains("already imported before: 9"), "{out}");
    assert_eq!(app.comment_count(), before);
    app.assert_counters_match_a_recount();

    // Anna claims her account by a password reset to the address the export held.
    assert_eq!(app.login("anna@old.example", PASSWORD).await.status, 401);
    assert_eq!(app.password_reset("anna@old.example").await.status, 202);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    let res = app
        .password_reset_confirm(&token_in(&mails[0]), "brand-new-violet-lantern")
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app
        .login("anna@old.example", "brand-new-violet-lantern")
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn a_wordpress_export_comes_in_with_its_comments() {
    let app = TestApp::spawn().await;
    let editor = app.editor("chief").await;
    let election = app
        .article_with_slug(&editor.access, "election-results", "Election results")
        .await;
    let (ok, out) = app.import("wordpress", &fixture("wordpress.xml"), &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 matched to articles, 0 new articles"),
        "{out}"
    );
    assert!(
        out.contains("skipped: 1 never approved, 1 pingbacks or trackbacks, 1 spam"),
        "{out}"
    );
    let thread = app.comments(election, "").await.json();
    assert_eq!(
        bodies(&thread),
        [
            "Great turnout & a close race.",
            "  I agree with Ivan.",
            "(deleted)",
            "  Under the trashed one",
        ],
        "{thread}"
    );
    assert_eq!(thread["items"][0]["created_at"], "2020-06-01T11:00:00Z");
    app.assert_counters_match_a_recount();
    let (ok, out) = app.import("wordpress", &fixture("wordpress.xml"), &[]);
    assert!(ok && out.contains("comments: 0 imported"), "{out}");
}

/// A Disqus export of one thread and `posts` posts, each replying to the one before.
fn generated_export(posts: usize) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="1"><link>https://news.example/news/long-thread</link><title>Long</title><createdAt>2020-01-01T00:00:00Z</createdAt></thread>
"#,
    );
    for i in 1..=posts {
        let parent = if i > 1 {
            format!(r#"<parent dsq:id="p{}"/>"#, i - 1)
        } else {
            String::new()
        };
        xml.push_str(&format!(
            r#"<post dsq:id="p{i}"><message><![CDATA[<p>post {i}</p>]]></message><createdAt>2020-01-01T00:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Reader {}</name></author><thread dsq:id="1"/>{parent}</post>
"#,
            i % 7
        ));
    }
    xml.push_str("</disqus>\n");
    xml
}

#[actix_web::test]
async fn a_cut_short_file_stops_with_its_line_and_the_next_run_finishes_the_job() {
    let app = TestApp::spawn().await;
    let full = generated_export(1500);
    let whole = app.db.dir().join("export.xml");
    std::fs::write(&whole, &full).unwrap();
    let cut = app.db.dir().join("cut.xml");
    let at = full.find("dsq:id=\"p1300\"").unwrap();
    std::fs::write(&cut, &full[..at]).unwrap();

    let (ok, out) = app.import("disqus", &cut, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("line 1303"), "{out}");
    assert!(out.contains("1 batches of 1000 records"), "{out}");
    // The complete batch stays: the thread and 999 posts.
    assert_eq!(app.comment_count(), 999);
    app.assert_counters_match_a_recount();

    let (ok, out) = app.import("disqus", &whole, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("comments: 501 imported"), "{out}");
    assert_eq!(app.comment_count(), 1500);
    app.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn hostile_or_broken_xml_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let dir = app.db.dir().clone();
    let cases = [
        (
            "entities.xml",
            r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<disqus><thread dsq:id="1"><title>&lol2;</title></thread></disqus>"#,
            "DOCTYPE",
        ),
        (
            "external.xml",
            r#"<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<disqus><thread dsq:id="1"><title>&xxe;</title></thread></disqus>"#,
            "DOCTYPE",
        ),
        (
            "undefined.xml",
            "<disqus>\n<thread dsq:id=\"1\"><title>&xxe;</title><createdAt>2020-01-01T00:00:00Z</createdAt></thread></disqus>",
            "line 2",
        ),
        (
            "mismatched.xml",
            "<disqus>\n\n<post dsq:id=\"1\"><message>hi</msg></post></disqus>",
            "line 3",
        ),
        (
            "undated.xml",
            "<disqus>\n<thread dsq:id=\"1\"><createdAt>yesterday</createdAt></thread></disqus>",
            "not a date",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (ok, out) = app.import("disqus", &path, &[]);
        assert!(!ok, "{name}: {out}");
        assert!(out.contains(expected), "{name}: {out}");
        assert!(!out.contains("root:"), "{name}: {out}");
    }
    let (ok, out) = app.import("disqus", &dir.join("missing.xml"), &[]);
    assert!(!ok && out.contains("cannot read"), "{out}");
    assert_eq!(app.comment_count(), 0);
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM import_keys"),
        0
    );
}

#[actix_web::test]
async fn a_reply_waits_for_a_parent_that_becomes_a_root_at_the_end() {
    let app = TestApp::spawn().await;
    // p2 answers p9, which is not in the export; p1 answers p2 and comes first (and sorts first).
    let post = |id: &str, parent: &str, text: &str| {
        format!(
            "<post dsq:id=\"{id}\"><message><![CDATA[<p>{text}</p>]]></message>\
             <createdAt>2019-03-01T10:00:00Z</createdAt><isDeleted>false</isDeleted>\
             <isSpam>false</isSpam><author><name>Anna</name><isAnonymous>true</isAnonymous>\
             </author><thread dsq:id=\"t1\" /><parent dsq:id=\"{parent}\" /></post>\n"
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<disqus xmlns=\"http://disqus.com\" \
         xmlns:dsq=\"http://disqus.com/disqus-internals\">\n<thread dsq:id=\"t1\"><id />\
         <link>https://news.example/news/chain/</link><title>Chain</title>\
         <createdAt>2019-03-01T09:00:00Z</createdAt></thread>\n{}{}</disqus>\n",
        post("p1", "p2", "the reply"),
        post("p2", "p9", "the parent"),
    );
    let path = std::env::temp_dir().join(format!(
        "tribune-chain-{}.xml",
        tribune::auth::tokens::random_token()
    ));
    std::fs::write(&path, xml).unwrap();
    let (ok, out) = app.import("disqus", &path, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("comments: 2 imported"), "{out}");
    assert!(
        out.contains("1 replies without their parent as roots"),
        "{out}"
    );
    let thread = app.get("/api/v1/articles/chain/comments").await.json();
    let roots = thread["items"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "one root, its reply under it: {thread}");
    assert_eq!(roots[0]["body"], "the parent");
    assert_eq!(roots[0]["children"][0]["body"], "the reply", "{thread}");
}
