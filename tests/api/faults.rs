//! Faults from outside: the database going away under a running server, `kill -9` and
//! SIGTERM under load, a sender killed in the middle of a digest. Where a process must die,
//! the test runs the real binary (`tribune serve`) as a child process.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestDb, test_settings};
use crate::smtp::MailSink;

/// `tribune serve` in a child process, on a test's database.
struct Serve {
    child: Mutex<Child>,
    address: String,
    client: awc::Client,
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tribune(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tribune"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRIBUNE_CONFIG", "/dev/null")
        .env("DATABASE_URL", &db.url)
        .env("TRIBUNE_MAIL_DIR", db.dir().join("mail"))
        .env("RUST_LOG", "warn");
    command
}

impl Serve {
    async fn start(db: &TestDb, extra: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(db.dir().join("serve.log"))
            .unwrap();
        let mut command = tribune(db);
        command
            .env("TRIBUNE_LISTEN", format!("127.0.0.1:{port}"))
            .env("TRIBUNE_RATE_LIMITS", "off")
            .env("TRIBUNE_WORKERS", "2");
        for (key, value) in extra {
            command.env(key, value);
        }
        let child = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("tribune serve starts");
        let serve = Serve {
            child: Mutex::new(child),
            address: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = serve.client.get(serve.url("/healthz")).send().await
                && res.status() == 200
            {
                return serve;
            }
            assert!(Instant::now() < deadline, "tribune serve did not come up");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request; `None` when no answer came (connection refused or cut).
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        client_ip: Option<&str>,
    ) -> Option<(u16, Value)> {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        // A reader's browser: its views count.
        let mut request = self
            .client
            .request(method, self.url(path))
            .insert_header(("User-Agent", crate::helpers::BROWSER));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        if let Some(ip) = client_ip {
            request = request.insert_header(("X-Forwarded-For", ip));
        }
        let sent = match body {
            Some(body) => {
                request
                    .insert_header(("Content-Type", "application/json"))
                    .send_body(Bytes::from(body.to_string()))
                    .await
            }
            None => request.send().await,
        };
        let mut response = sent.ok()?;
        let bytes = response.body().limit(1 << 24).await.ok()?;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Some((response.status().as_u16(), json))
    }

    /// Registers `name` and returns its access token.
    async fn signed_up(&self, name: &str) -> String {
        let body =
            json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD});
        let (status, json) = self
            .send("POST", "/api/v1/auth/register", None, Some(&body), None)
            .await
            .unwrap();
        assert_eq!(status, 201, "{json}");
        json["access_token"].as_str().unwrap().to_string()
    }

    async fn topic(&self, token: &str, title: &str) -> i64 {
        let body = json!({"title": title, "body": "Something to say."});
        let (status, json) = self
            .send(
                "POST",
                "/api/v1/discussions",
                Some(token),
                Some(&body),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 201, "{json}");
        json["id"].as_i64().unwrap()
    }

    fn kill_9(&self) {
        let mut child = self.child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn terminate(&self) {
        let pid = self.child.lock().unwrap().id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
    }

    async fn wait_exit(&self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                return Some(status);
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Clients posting comments until the server stops answering.
struct Writers {
    tasks: Vec<actix_web::rt::task::JoinHandle<()>>,
    /// The ids answered `201`.
    acknowledged: Rc<Mutex<Vec<i64>>>,
    /// Every other status seen.
    others: Rc<Mutex<Vec<u16>>>,
}

fn start_writers(serve: &Rc<Serve>, token: &str, topic: i64, writers: usize) -> Writers {
    let acknowledged = Rc::new(Mutex::new(Vec::new()));
    let others = Rc::new(Mutex::new(Vec::new()));
    let tasks = (0..writers)
        .map(|w| {
            let (serve, token) = (serve.clone(), token.to_string());
            let (acknowledged, others) = (acknowledged.clone(), others.clone());
            actix_web::rt::spawn(async move {
                for n in 0.. {
                    let body = json!({"body": format!("writer {w}, comment {n}")});
                    let path = format!("/api/v1/discussions/{topic}/comments");
                    match serve
                        .send("POST", &path, Some(&token), Some(&body), None)
                        .await
                    {
                        Some((201, json)) => acknowledged
                            .lock()
                            .unwrap()
                            .push(json["id"].as_i64().unwrap()),
                        Some((status, _)) => others.lock().unwrap().push(status),
                        None => return,
                    }
                }
            })
        })
        .collect();
    Writers {
        tasks,
        acknowledged,
        others,
    }
}

#[actix_web::test]
async fn kill_9_under_concurrent_writes_loses_no_acknowledged_comment() {
    let db = TestDb::create();
    let serve = Serve::start(&db, &[]).await;
    let token = serve.signed_up("anna").await;
    let topic = serve.topic(&token, "Busy").await;
    let serve = Rc::new(serve);
    let Writers {
        tasks,
        acknowledged,
        others,
    } = start_writers(&serve, &token, topic, 8);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    serve.kill_9();
    for writer in tasks {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 10, "{} comments", acknowledged.len());
    assert!(
        others.lock().unwrap().iter().all(|s| *s < 500),
        "{:?}",
        others
    );

    // Every comment answered 201 is there after a restart, and the counters agree.
    let serve = Serve::start(&db, &[]).await;
    for id in &acknowledged {
        let (status, _) = serve
            .send("GET", &format!("/api/v1/comments/{id}"), None, None, None)
            .await
            .unwrap();
        assert_eq!(status, 200, "comment {id} was acknowledged and is gone");
    }
    db.assert_counters_match_a_recount();
}

#[actix_web::test]
async fn sigterm_under_load_answers_what_it_accepted_and_keeps_buffered_views() {
    let db = TestDb::create();
    let serve = Serve::start(&db, &[("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let token = serve.signed_up("anna").await;
    let topic = serve.topic(&token, "Read and written").await;
    let serve = Rc::new(serve);
    let Writers {
        tasks: writers,
        acknowledged,
        others,
    } = start_writers(&serve, &token, topic, 8);
    // 32 readers, each a client of its own: one view each, then the feed and the thread.
    let viewed = Rc::new(Mutex::new(0));
    let statuses = Rc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = (0..32)
        .map(|r| {
            let (serve, viewed, statuses) = (serve.clone(), viewed.clone(), statuses.clone());
            actix_web::rt::spawn(async move {
                let ip = format!("198.51.100.{}", r + 1);
                let mut first = true;
                loop {
                    let path = format!("/api/v1/discussions/{topic}");
                    let Some((status, _)) = serve.send("GET", &path, None, None, Some(&ip)).await
                    else {
                        return;
                    };
                    if first && status == 200 {
                        *viewed.lock().unwrap() += 1;
                        first = false;
                    }
                    statuses.lock().unwrap().push(status);
                    let path = format!("/api/v1/discussions/{topic}/comments?limit=5");
                    let Some((status, _)) = serve.send("GET", &path, None, None, Some(&ip)).await
                    else {
                        return;
                    };
                    statuses.lock().unwrap().push(status);
                }
            })
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(1000)).await;
    serve.terminate();
    let signalled = Instant::now();
    for task in writers.into_iter().chain(readers) {
        task.await.unwrap();
    }
    let exit = serve
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("the process exits within 10 s of SIGTERM");
    assert!(exit.success(), "{exit:?}");
    assert!(signalled.elapsed() < Duration::from_secs(10));
    let statuses = statuses.lock().unwrap().clone();
    assert!(statuses.len() > 32);
    assert!(
        statuses.iter().all(|s| *s == 200),
        "readers saw {statuses:?}"
    );
    assert!(
        others.lock().unwrap().is_empty(),
        "writers saw {:?}",
        others
    );

    // Nothing acknowledged is lost; the buffered views were written on the way out.
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty());
    let stored = db.number(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments WHERE discussion_id = {topic}"
    ));
    assert_eq!(stored, acknowledged.len() as i64);
    db.assert_counters_match_a_recount();
    let views = db.number(&format!(
        "SELECT views AS n FROM discussions WHERE id = {topic}"
    ));
    assert_eq!(views, *viewed.lock().unwrap());
}

#[actix_web::test]
async fn sigkill_loses_at_most_one_flush_of_views() {
    let db = TestDb::create();
    let serve = Serve::start(&db, &[("TRIBUNE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let token = serve.signed_up("anna").await;
    let topic = serve.topic(&token, "Viewed").await;
    let view = |n: usize| {
        let path = format!("/api/v1/discussions/{topic}");
        let ip = format!("203.0.113.{n}");
        let serve = &serve;
        async move {
            let (status, _) = serve
                .send("GET", &path, None, None, Some(&ip))
                .await
                .unwrap();
            assert_eq!(status, 200);
        }
    };
    for n in 1..=10 {
        view(n).await;
    }
    // The flusher writes about every second.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    for n in 11..=20 {
        view(n).await;
    }
    serve.kill_9();
    let views = db.number(&format!(
        "SELECT views AS n FROM discussions WHERE id = {topic}"
    ));
    assert!((10..=20).contains(&views), "{views} views kept of 20");
}

/// The day whose digest covers an article published yesterday at 05:00 UTC (digest hour 6).
fn digest_day() -> chrono::NaiveDate {
    (chrono::Utc::now() - chrono::Duration::days(1)).date_naive()
}

#[actix_web::test]
async fn a_sender_killed_mid_digest_leaves_nobody_without_it() {
    let sink = MailSink::start();
    let db = TestDb::create();
    let mail = [
        ("TRIBUNE_SMTP_URL", sink.url()),
        ("TRIBUNE_MAIL_RATE", "1000".to_string()),
        ("TRIBUNE_PUBLIC_URL", "https://news.example".to_string()),
        ("TRIBUNE_DIGEST_HOUR", "6".to_string()),
    ];
    let extra: Vec<(&str, &str)> = mail.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let serve = Serve::start(&db, &extra).await;
    // An editor (through the command line), an article of the digest's day, 300 subscribers.
    let created = tribune(&db)
        .env("TRIBUNE_PASSWORD", PASSWORD)
        .args([
            "user",
            "create",
            "--username",
            "editor1",
            "--email",
            "ed@example.com",
        ])
        .args(["--role", "editor"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let login = json!({"login": "editor1", "password": PASSWORD});
    let (_, tokens) = serve
        .send("POST", "/api/v1/auth/login", None, Some(&login), None)
        .await
        .unwrap();
    let editor = tokens["access_token"].as_str().unwrap().to_string();
    let day = digest_day();
    let article = json!({"title": "Inside the window", "lead": "Lead.", "body": "B.",
                         "published_at": format!("{day}T05:00:00Z")});
    let (status, json) = serve
        .send(
            "POST",
            "/api/v1/articles",
            Some(&editor),
            Some(&article),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{json}");
    let now = if db.is_postgres() {
        "now()"
    } else {
        "CURRENT_TIMESTAMP"
    };
    let rows: Vec<String> = (0..300)
        .map(|n| {
            format!("('s{n}@example.com', 's{n}@example.com', 'confirmed', 'unsub-{n}', {now})")
        })
        .collect();
    db.sql(&format!(
        "INSERT INTO newsletter_subscribers (email, email_key, status, unsubscribe_token, \
         created_at) VALUES {}",
        rows.join(", ")
    ));
    sink.slow_down(Duration::from_millis(15));
    let enqueued = tribune(&db)
        .envs(mail.iter().map(|(k, v)| (*k, v.as_str())))
        .args([
            "newsletter",
            "send-digest",
            "--enqueue-only",
            "--date",
            &day.to_string(),
        ])
        .output()
        .unwrap();
    assert!(enqueued.status.success(), "{enqueued:?}");

    // The running server sends; it is killed a third of the way through.
    sink.wait_for(100, Duration::from_secs(60)).await;
    serve.kill_9();
    let at_kill = sink.messages().len();
    assert!(
        at_kill < 300,
        "all sent before the kill: the test proves nothing"
    );
    let _serve = Serve::start(&db, &extra).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let recipients = loop {
        let mut recipients: Vec<String> = sink
            .messages()
            .iter()
            .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(String::from))
            .collect();
        recipients.sort();
        let mut distinct = recipients.clone();
        distinct.dedup();
        if distinct.len() == 300 {
            break recipients;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 300 subscribers had their digest 60 s after the restart",
            distinct.len()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    // A mail the SMTP server accepted in the instant of the kill (before its outcome was
    // recorded) may go twice: at most the one in flight.
    let mut distinct = recipients.clone();
    distinct.dedup();
    assert!(
        recipients.len() - distinct.len() <= 1,
        "{} duplicates",
        recipients.len() - distinct.len()
    );
}

/// Waits until `check` holds, at most `within`; how long it took.
async fn within<F: Fn() -> Fut, Fut: std::future::Future<Output = bool>>(
    within: Duration,
    check: F,
) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "not within {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

/// While the database is away: every request that needs it is a quick `503` with
/// `Retry-After` (the median well under 250 ms; none near the pool's 5 s wait, even on a
/// loaded machine running other tests), `/readyz` never `200`.
async fn assert_fails_fast(app: &TestApp, token: &str, topic: i64) {
    let started = Instant::now();
    let mut took = Vec::new();
    while started.elapsed() < Duration::from_millis(1500) {
        for path in [
            "/api/v1/discussions",
            &format!("/api/v1/discussions/{topic}/comments"),
        ] {
            let asked = Instant::now();
            let res = app.get(path).await;
            took.push(asked.elapsed());
            res.problem(503);
            assert!(res.header("retry-after").is_some());
        }
        let asked = Instant::now();
        app.comment(token, topic, "While it is away", None)
            .await
            .problem(503);
        took.push(asked.elapsed());
        app.readyz().await.problem(503);
    }
    took.sort();
    let median = took[took.len() / 2];
    let slowest = took[took.len() - 1];
    assert!(median < Duration::from_millis(250), "median {median:?}");
    assert!(slowest < Duration::from_secs(1), "slowest {slowest:?}");
}

#[actix_web::test]
async fn the_database_going_away_fails_fast_and_coming_back_heals() {
    let db = TestDb::create();
    let postgres = db.is_postgres();
    // PostgreSQL behind a proxy the test cuts; SQLite's file moved away and back.
    let proxy = if postgres {
        let upstream = crate::operations::upstream_address(&db.url);
        Some((
            crate::operations::proxy::Proxy::start(upstream.clone()).await,
            upstream,
        ))
    } else {
        None
    };
    let url = match &proxy {
        Some((proxy, upstream)) => db.url.replace(upstream, &proxy.address()),
        None => db.url.clone(),
    };
    let settings = test_settings(
        &db,
        &[
            ("DATABASE_URL", url.as_str()),
            ("TRIBUNE_FEED_CACHE_MS", "0"),
        ],
    );
    let file = db.dir().join("tribune.db");
    let moved = db.dir().join("moved.db");
    let app = TestApp::spawn_on(db, settings).await;
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Before").await;
    app.commented(&anna.access, topic, "Before the outage", None)
        .await;

    match &proxy {
        Some((proxy, _)) => proxy.cut(),
        None => std::fs::rename(&file, &moved).unwrap(),
    }
    let noticed = within(Duration::from_secs(1), || async {
        app.readyz().await.status == 503
    })
    .await;
    eprintln!("readyz said 503 {noticed:?} after the loss");
    assert_fails_fast(&app, &anna.access, topic).await;
    let metrics = app.metrics().await.text();
    assert!(metrics.contains("tribune_db_up 0"), "{metrics}");

    match &proxy {
        Some((proxy, _)) => proxy.restore().await,
        None => std::fs::rename(&moved, &file).unwrap(),
    }
    within(Duration::from_secs(2), || async {
        app.readyz().await.status == 200 && app.feed("").await.status == 200
    })
    .await;
    // Nothing was lost or broken meanwhile.
    app.commented(&anna.access, topic, "After the outage", None)
        .await;
    let page = app.comments(topic, "").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    app.assert_counters_match_a_recount();
}

/// SQLite: a database file that cannot be written (made immutable, as a read-only disk would
/// be) answers `503` to writes, never `500`; nothing is half-written, and writes work again
/// once the file can be written. Needs `chattr` (root on ext4); skipped where it cannot run.
#[actix_web::test]
async fn an_unwritable_sqlite_file_is_a_503_and_nothing_breaks() {
    let app = TestApp::spawn().await;
    if app.db.is_postgres() {
        eprintln!("skipped: SQLite only");
        return;
    }
    let anna = app.signed_up("anna").await;
    let topic = app.topic(&anna.access, "Before").await;
    app.commented(&anna.access, topic, "Before", None).await;
    let dir = app.db.dir().clone();
    // (Not the `-shm` index: it is mapped into memory, and an immutable mapping is a crash
    // of the whole process, not a disk that refuses writes.)
    let files: Vec<String> = ["tribune.db", "tribune.db-wal"]
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .filter(|f| std::path::Path::new(f).exists())
        .collect();
    let chattr = |flag: &str| {
        Command::new("chattr")
            .arg(flag)
            .args(&files)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chattr("+i") {
        eprintln!("skipped: chattr +i is not permitted here");
        return;
    }
    let res = app
        .comment(&anna.access, topic, "While unwritable", None)
        .await;
    let readable = app.feed("").await.status;
    assert!(chattr("-i"), "chattr -i");
    res.problem(503);
    assert!(res.header("retry-after").is_some());
    assert!(readable == 200 || readable == 503, "{readable}");
    // Writable again: the next write works, and nothing was half-written.
    app.commented(&anna.access, topic, "After", None).await;
    let page = app.comments(topic, "").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    app.assert_counters_match_a_recount();
}
