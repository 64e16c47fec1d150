//! Notifications: the inbox, what is never notified, the reader's own stream, batched mail,
//! settings and mutes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens};
use crate::smtp::{MailSink, unfold};

impl TestApp {
    pub async fn inbox(&self, token: &str, query: &str) -> Value {
        let res = self
            .get_as(&format!("/api/v1/me/notifications{query}"), token)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    }

    pub async fn unread(&self, token: &str) -> i64 {
        let res = self
            .get_as("/api/v1/me/notifications/unread-count", token)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["count"].as_i64().unwrap()
    }

    pub async fn mark_read(&self, token: &str, body: &Value) -> crate::helpers::Response {
        self.send_json(
            "POST",
            "/api/v1/me/notifications/read",
            Some(token),
            Some(body),
        )
        .await
    }

    pub async fn mute(&self, token: &str, user: i64) -> crate::helpers::Response {
        self.send_json(
            "POST",
            &format!("/api/v1/me/mutes/{user}"),
            Some(token),
            None,
        )
        .await
    }

    pub async fn notification_settings(
        &self,
        token: &str,
        body: &Value,
    ) -> crate::helpers::Response {
        self.send_json(
            "PUT",
            "/api/v1/me/notification-settings",
            Some(token),
            Some(body),
        )
        .await
    }
}

fn kinds(inbox: &Value) -> Vec<String> {
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn replies_topic_comments_and_mentions_reach_the_inbox_never_ones_own() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let carol = app.signed_up("carol").await;
    let topic = app.topic(&alice.access, "Bridges of the city").await;

    // Alice's own comment in her own topic notifies nobody.
    let first = app
        .commented(&alice.access, topic, "I start **here**", None)
        .await;
    assert_eq!(app.unread(&alice.access).await, 0);
    // Bob replies to Alice's comment: a reply (not also a topic comment).
    let reply = app
        .commented(&bob.access, topic, "A reply to you", Some(first))
        .await;
    // Carol comments at the root: a comment in Alice's topic; and names Bob, herself, nobody.
    let root = app
        .commented(
            &carol.access,
            topic,
            "See @Bob and @carol and @nobody_here; mail carol@example.com",
            None,
        )
        .await;

    let inbox = app.inbox(&alice.access, "").await;
    assert_eq!(kinds(&inbox), ["topic_comment", "reply"], "{inbox}");
    let newest = &inbox["items"][0];
    assert_eq!(newest["actor"]["username"], "carol");
    assert_eq!(newest["place"]["discussion_id"], topic);
    assert_eq!(newest["place"]["comment_id"], root);
    assert_eq!(newest["place"]["title"], "Bridges of the city");
    assert!(newest["read_at"].is_null());
    assert_eq!(inbox["items"][1]["excerpt"], "A reply to you");
    assert_eq!(inbox["items"][1]["place"]["comment_id"], reply);

    let bobs = app.inbox(&bob.access, "").await;
    assert_eq!(kinds(&bobs), ["mention"], "{bobs}");
    assert_eq!(app.unread(&carol.access).await, 0, "never one's own");

    // Paging, newest first, by cursor.
    let page = app.inbox(&alice.access, "?limit=1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .inbox(&alice.access, &format!("?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(next["items"][0]["kind"], "reply");
    assert!(next["next_cursor"].is_null());

    // Marking read: only one's own; then `all`.
    let reply_notification = next["items"][0]["id"].as_i64().unwrap();
    let res = app
        .mark_read(&bob.access, &json!({"ids": [reply_notification]}))
        .await;
    assert_eq!(res.json()["marked"], 0, "not Bob's");
    let res = app
        .mark_read(&alice.access, &json!({"ids": [reply_notification]}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["marked"], 1);
    assert_eq!(app.unread(&alice.access).await, 1);
    let unread = app.inbox(&alice.access, "?unread=true").await;
    assert_eq!(kinds(&unread), ["topic_comment"]);
    let res = app.mark_read(&alice.access, &json!({"all": true})).await;
    assert_eq!(res.json()["marked"], 1);
    assert_eq!(app.unread(&alice.access).await, 0);
    assert_eq!(
        app.inbox(&alice.access, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Bad requests name the field.
    for body in [
        json!({}),
        json!({"ids": [1], "all": true}),
        json!({"ids": (0..101).collect::<Vec<_>>()}),
    ] {
        let problem = app.mark_read(&alice.access, &body).await.problem(422);
        assert!(problem.to_string().contains("ids"), "{problem}");
    }
    app.get_as("/api/v1/me/notifications?cursor=zzz", &alice.access)
        .await
        .problem(400);
    app.get("/api/v1/me/notifications").await.problem(401);
}

#[actix_web::test]
async fn the_unread_count_answers_304_while_it_stays() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let res = app
        .get_as("/api/v1/me/notifications/unread-count", &alice.access)
        .await;
    let etag = res.header("etag").unwrap().to_string();
    let again = app
        .send(
            app.client
                .get(app.url("/api/v1/me/notifications/unread-count"))
                .insert_header(("Authorization", format!("Bearer {}", alice.access)))
                .insert_header(("If-None-Match", etag.as_str())),
            None,
        )
        .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn hidden_muted_and_banned_authors_notify_nobody() {
    let app = TestApp::spawn().await;
    let moderator = app.with_role("mod", "moderator").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let carol = app.signed_up("carol").await;
    let dave = app.signed_up("dave").await;
    let topic = app.topic(&alice.access, "Trams").await;
    let first = app
        .commented(&alice.access, topic, "Trams are back", None)
        .await;

    // A reply hidden by a moderator leaves Alice's inbox; Bob is told of the hiding.
    let reply = app
        .commented(&bob.access, topic, "Rude words", Some(first))
        .await;
    assert_eq!(app.unread(&alice.access).await, 1);
    let res = app
        .moderate_comment(&moderator.access, reply, "hide", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.unread(&alice.access).await, 0);
    let bobs = app.inbox(&bob.access, "").await;
    assert_eq!(kinds(&bobs), ["comment_hidden"], "{bobs}");
    assert!(
        bobs["items"][0]["actor"].is_null(),
        "moderators act for the site"
    );
    assert_eq!(bobs["items"][0]["excerpt"], "Rude words", "one's own text");
    // Restored, it is back.
    let res = app
        .moderate_comment(&moderator.access, reply, "restore", None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(app.unread(&alice.access).await, 1);

    // Alice mutes Carol: Carol's replies notify her of nothing; her comments are marked in
    // Alice's thread pages only.
    assert_eq!(app.mute(&alice.access, carol.user_id).await.status, 204);
    assert_eq!(
        app.mute(&alice.access, carol.user_id).await.status,
        204,
        "idempotent"
    );
    app.mute(&alice.access, alice.user_id).await.problem(422);
    app.mute(&alice.access, 999_999).await.problem(404);
    let muted_reply = app
        .commented(&carol.access, topic, "Hello @alice", Some(first))
        .await;
    assert_eq!(app.unread(&alice.access).await, 1);
    let mutes = app.get_as("/api/v1/me/mutes", &alice.access).await.json();
    assert_eq!(mutes["items"][0]["user"]["username"], "carol", "{mutes}");
    let page = app
        .get_as(
            &format!("/api/v1/discussions/{topic}/comments"),
            &alice.access,
        )
        .await
        .json();
    let replies = page["items"][0]["children"].as_array().unwrap();
    let carols = replies.iter().find(|c| c["id"] == muted_reply).unwrap();
    assert_eq!(carols["author_muted"], true, "{page}");
    let bobs_reply = replies.iter().find(|c| c["id"] == reply).unwrap();
    assert!(bobs_reply.get("author_muted").is_none());
    let anonymous = app.comments(topic, "").await.json();
    assert!(!anonymous.to_string().contains("author_muted"));
    let res = app
        .send_json(
            "DELETE",
            &format!("/api/v1/me/mutes/{}", carol.user_id),
            Some(&alice.access),
            None,
        )
        .await;
    assert_eq!(res.status, 204);
    let page = app
        .get_as(
            &format!("/api/v1/discussions/{topic}/comments"),
            &alice.access,
        )
        .await
        .json();
    assert!(!page.to_string().contains("author_muted"), "unmuted");

    // Dave mentions Alice, then is banned: his mention leaves her inbox.
    app.commented(&dave.access, topic, "@alice look", None)
        .await;
    assert_eq!(app.unread(&alice.access).await, 2);
    let res = app
        .ban(&moderator.access, dave.user_id, &json!({"reason": "spam"}))
        .await;
    assert!(res.status < 300, "{}", res.text());
    assert_eq!(app.unread(&alice.access).await, 1);
}

#[actix_web::test]
async fn reporters_hear_how_their_report_ended() {
    let app = TestApp::spawn().await;
    let moderator = app.with_role("mod", "moderator").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let topic = app.topic(&alice.access, "Elections").await;
    let comment = app
        .commented(&bob.access, topic, "Lies and more lies", None)
        .await;
    let res = app.report(&alice.access, comment, "spam").await;
    assert!(res.status < 300, "{}", res.text());
    let report = app
        .get_as("/api/v1/admin/reports", &moderator.access)
        .await
        .json()["items"][0]["reports"][0]["id"]
        .as_i64()
        .unwrap();
    let res = app
        .resolve_report(Some(&moderator.access), report, "hide")
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let inbox = app.inbox(&alice.access, "").await;
    let resolved = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "report_resolved")
        .unwrap_or_else(|| panic!("{inbox}"));
    assert_eq!(resolved["detail"], "hide");
    assert!(
        resolved["excerpt"].is_null(),
        "a hidden comment's text is not the reporter's to read"
    );
    assert_eq!(kinds(&app.inbox(&bob.access, "").await), ["comment_hidden"]);
}

/// Reads SSE chunks until `want` shows up (or 5 s pass).
async fn read_until(
    stream: &mut awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
        + Unpin,
    >,
    want: &str,
) -> String {
    use futures_util::StreamExt;
    let mut received = String::new();
    while !received.contains(want) {
        let chunk = actix_web::rt::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("{want:?} within 5 s; got {received:?}"))
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    received
}

#[actix_web::test]
async fn the_readers_own_stream_delivers_new_notifications() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let topic = app.topic(&alice.access, "Rain").await;

    app.get("/api/v1/me/stream").await.problem(401);
    let res = app
        .send_json(
            "POST",
            "/api/v1/me/stream/tickets",
            Some(&alice.access),
            None,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let ticket = res.json()["ticket"].as_str().unwrap().to_string();
    let mut stream = app
        .client
        .get(app.url(&format!("/api/v1/me/stream?ticket={ticket}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    read_until(&mut stream, ": connected").await;
    // Single use.
    app.get(&format!("/api/v1/me/stream?ticket={ticket}"))
        .await
        .problem(401);

    let comment = app.commented(&bob.access, topic, "Umbrellas!", None).await;
    let received = read_until(&mut stream, "event: notification\ndata: ").await;
    let received = read_until_blank(&mut stream, received).await;
    let data: Value = received
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .unwrap();
    assert_eq!(data["kind"], "topic_comment");
    assert_eq!(data["place"]["comment_id"], comment);
    assert_eq!(data["actor"]["username"], "bob");
    assert!(
        !received.contains("event: discussion"),
        "only the reader's own events"
    );

    // With the access token in the header, too; Bob's stream hears nothing of Alice's.
    let mut bobs = app
        .client
        .get(app.url("/api/v1/me/stream"))
        .insert_header(("Authorization", format!("Bearer {}", bob.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(bobs.status(), 200);
    read_until(&mut bobs, ": connected").await;
    app.commented(&bob.access, topic, "Again", None).await;
    read_until(&mut stream, "Again").await;
}

async fn read_until_blank(
    stream: &mut awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
        + Unpin,
    >,
    mut received: String,
) -> String {
    let start = received.find("event: notification").unwrap();
    if !received[start..].contains("\n\n") {
        received.push_str(&read_until(stream, "\n\n").await);
    }
    received[start..].to_string()
}

async fn mail_app(extra: &[(&str, &str)]) -> (TestApp, MailSink) {
    let sink = MailSink::start();
    let mut settings = vec![
        ("TRIBUNE_SMTP_URL", sink.url()),
        ("TRIBUNE_PUBLIC_URL", "https://news.example".to_string()),
    ];
    settings.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (TestApp::spawn_with(&pairs).await, sink)
}

#[actix_web::test]
async fn a_burst_of_a_thousand_replies_makes_one_mail_with_one_click_unsubscribe() {
    let (app, sink) = mail_app(&[
        ("TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS", "2"),
        ("TRIBUNE_NOTIFICATION_MAIL_INTERVAL_SECONDS", "3600"),
    ])
    .await;
    let alice = app.signed_up("alice").await;
    let topic = app.topic(&alice.access, "Snow").await;
    let first = app.commented(&alice.access, topic, "It snows", None).await;
    let mut repliers: Vec<Tokens> = Vec::new();
    for i in 0..4 {
        repliers.push(app.signed_up(&format!("replier{i}")).await);
    }
    let posts = (0..1000).map(|i| {
        let token = repliers[i % repliers.len()].access.clone();
        let app = &app;
        async move {
            app.commented(&token, topic, &format!("Reply {i}"), Some(first))
                .await
        }
    });
    use futures_util::StreamExt;
    futures_util::stream::iter(posts)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(app.unread(&alice.access).await, 100, "counted up to 100");
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    // Rounds of the mail worker go by; nothing more comes within the interval.
    actix_web::rt::time::sleep(Duration::from_secs(4)).await;
    let mails_now = sink.messages();
    assert_eq!(mails_now.len(), 1, "one mail for the burst");
    let mail = unfold(&mails[0]);
    assert!(mail.contains("To: alice@example.com"), "{mail}");
    assert!(
        mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{mail}"
    );
    assert!(mail.contains("replied to your comment"), "{mail}");
    assert!(mail.contains("more."), "{mail}");
    let url = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{mail}"))
        .to_string();
    let path = url.strip_prefix("https://news.example").unwrap();
    assert!(path.contains("topics=replies"), "{path}");

    // A GET shows a page and changes nothing; the one-click POST turns replies off.
    let page = app.get(path).await;
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let settings = app
        .get_as("/api/v1/me/notification-settings", &alice.access)
        .await
        .json();
    assert_eq!(
        settings,
        json!({"replies": "immediately", "mentions": "immediately"})
    );
    let res = app
        .send(
            app.client
                .post(app.url(path))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded")),
            Some(actix_web::web::Bytes::from_static(
                b"List-Unsubscribe=One-Click",
            )),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let settings = app
        .get_as("/api/v1/me/notification-settings", &alice.access)
        .await
        .json();
    assert_eq!(
        settings,
        json!({"replies": "off", "mentions": "immediately"})
    );
    let waiting = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM notifications WHERE mail IS NOT NULL";
    assert_eq!(
        app.number(waiting),
        0,
        "what waited for a mail that is off is dropped"
    );
    // A reply now waits only until the mail worker comes to Alice (the interval over), and is
    // dropped then: no mail.
    app.commented(&repliers[0].access, topic, "One more", Some(first))
        .await;
    app.age("notification_settings", "last_mailed_at", 7200);
    for _ in 0..50 {
        if app.number(waiting) == 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.number(waiting), 0, "sorted out by the worker");
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.messages().len(), 1, "no mail while replies are off");
    app.post("/api/v1/notifications/unsubscribe?token=nope", &json!({}))
        .await
        .problem(422);
}

#[actix_web::test]
async fn daily_choices_go_in_one_mail_at_the_digest_hour() {
    use chrono::Timelike;
    let hour = chrono::Utc::now().hour().to_string();
    let (app, sink) = mail_app(&[
        ("TRIBUNE_DIGEST_HOUR", hour.as_str()),
        ("TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS", "0"),
    ])
    .await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let res = app
        .notification_settings(&alice.access, &json!({"mentions": "daily"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!({"replies": "immediately", "mentions": "daily"})
    );
    let topic = app.topic(&bob.access, "Markets").await;
    app.commented(&bob.access, topic, "What does @alice think?", None)
        .await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    assert!(sink.messages().is_empty(), "not before the digest hour");
    // As if it had come yesterday: today's digest hour has passed since.
    app.age("notifications", "created_at", 2 * 3600);
    let mails = sink.wait_for(1, Duration::from_secs(15)).await;
    let mail = unfold(&mails[0]);
    assert!(mail.contains("mentioned you in"), "{mail}");
    assert!(mail.contains("topics=mentions"), "{mail}");

    // Bad settings name the field.
    let problem = app
        .notification_settings(&alice.access, &json!({"replies": "hourly"}))
        .await;
    assert!(
        problem.status == 400 || problem.status == 422,
        "{}",
        problem.text()
    );
    assert!(problem.text().contains("replies"), "{}", problem.text());
}

#[actix_web::test]
async fn old_read_notifications_are_purged() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let topic = app.topic(&alice.access, "Old news").await;
    app.commented(&bob.access, topic, "one", None).await;
    app.commented(&bob.access, topic, "two", None).await;
    let newest = app.inbox(&alice.access, "").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    app.mark_read(&alice.access, &json!({"ids": [newest]}))
        .await;
    app.age("notifications", "read_at", 100 * 86_400);
    let stdout = app.purge();
    assert!(stdout.contains("1 notifications"), "{stdout}");
    assert_eq!(
        kinds(&app.inbox(&alice.access, "").await),
        ["topic_comment"]
    );
}

#[actix_web::test]
async fn a_deleted_topics_notifications_leave_the_inbox() {
    let app = TestApp::spawn().await;
    let moderator = app.with_role("mod", "moderator").await;
    let alice = app.signed_up("alice").await;
    let bob = app.signed_up("bob").await;
    let topic = app.topic(&alice.access, "Gone soon").await;
    app.commented(&bob.access, topic, "Hello", None).await;
    assert_eq!(app.unread(&alice.access).await, 1);
    let res = app.delete_topic_as_staff(&moderator.access, topic).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(app.unread(&alice.access).await, 0);
    assert!(
        app.inbox(&alice.access, "").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// With several processes on PostgreSQL, a notification made on one reaches the reader's
/// stream on another (SQLite serves a site from one process).
#[actix_web::test]
async fn a_notification_reaches_the_readers_stream_on_another_process() {
    let one = TestApp::spawn().await;
    if !one.db.is_postgres() {
        return;
    }
    let two = one.another_process(&[]).await;
    let alice = one.signed_up("alice").await;
    let bob = one.signed_up("bob").await;
    let topic = one.topic(&alice.access, "Across processes").await;
    let mut stream = two
        .client
        .get(two.url("/api/v1/me/stream"))
        .insert_header(("Authorization", format!("Bearer {}", alice.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    read_until(&mut stream, ": connected").await;
    one.commented(&bob.access, topic, "From the first process", None)
        .await;
    let received = read_until(&mut stream, "From the first process").await;
    assert!(received.contains("event: notification"), "{received}");
}
