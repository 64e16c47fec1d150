//! The `tribune` binary itself: configuration errors, `migrate`, `openapi`, and a graceful
//! stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::TestDb;

fn tribune() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tribune"));
    // Only what each test sets: no stray tribune.toml, no variables of the caller's.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.env("TRIBUNE_CONFIG", "/dev/null");
    command
}

#[test]
fn a_bad_setting_stops_the_program_and_names_the_variable() {
    let out = tribune()
        .env("TRIBUNE_DIGEST_HOUR", "25")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TRIBUNE_DIGEST_HOUR"), "{stderr}");
}

#[test]
fn openapi_prints_the_document() {
    let out = tribune().arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        tribune::openapi::yaml()
    );
}

#[test]
fn migrate_applies_migrations_once() {
    let db = TestDb::create();
    for _ in 0..2 {
        let out = tribune()
            .env("DATABASE_URL", &db.url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn migrations_have_the_same_names_on_both_backends() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

/// A `tribune serve` process on `db`, with its address and the rest of its log.
struct Served {
    child: std::process::Child,
    address: String,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

fn serve(db: &TestDb) -> Served {
    let mut child = tribune()
        .env("DATABASE_URL", &db.url)
        .env("TRIBUNE_LISTEN", "127.0.0.1:0")
        .env("TRIBUNE_WORKERS", "1")
        .env("TRIBUNE_RATE_LIMITS", "off")
        .env("TRIBUNE_MAIL_DIR", db.dir().join("mail"))
        .env("LOG_FORMAT", "json")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server logs that it listens")
            .unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["address"].as_str().unwrap().to_string();
        }
    };
    Served {
        child,
        address,
        lines,
    }
}

impl Served {
    /// One request over a fresh connection: (status, body).
    fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        // A reader's browser: its views count.
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: tribune\r\nUser-Agent: {}\r\n",
            crate::helpers::BROWSER
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// SIGTERM, then waits for the exit; returns the rest of the log.
    fn terminate(mut self) -> Vec<String> {
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running 15 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status}");
        self.lines.map_while(Result::ok).collect()
    }
}

/// `tribune serve` answers, then stops cleanly on SIGTERM with exit status 0.
#[test]
fn serve_stops_gracefully_on_sigterm() {
    let db = TestDb::create();
    let server = serve(&db);
    assert_eq!(
        server.http("GET", "/healthz", None, None),
        (200, r#"{"status":"ok"}"#.to_string())
    );
    let rest = server.terminate();
    assert!(
        rest.iter().any(|l| l.contains("server stopped")),
        "{rest:?}"
    );
}

/// Views counted just before a SIGTERM are in the database after the restart.
#[test]
fn views_survive_a_sigterm_restart() {
    let db = TestDb::create();
    let server = serve(&db);
    let register =
        r#"{"username":"viewer","email":"viewer@example.com","password":"plum-violet-harbour-27"}"#;
    let (status, body) = server.http("POST", "/api/v1/auth/register", None, Some(register));
    assert_eq!(status, 201, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let (status, body) = server.http(
        "POST",
        "/api/v1/discussions",
        Some(&token),
        Some(r#"{"title":"Counted","body":"Look at me."}"#),
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        server
            .http(
                "GET",
                &format!("/api/v1/discussions/{id}"),
                Some(&token),
                None
            )
            .0,
        200
    );
    // Stopped at once: the view is still in the buffer, and the stop must flush it.
    let rest = server.terminate();
    assert!(
        rest.iter().any(|l| l.contains("view counts flushed")),
        "{rest:?}"
    );

    let server = serve(&db);
    let (status, body) = server.http("GET", "/api/v1/discussions", None, None);
    assert_eq!(status, 200);
    let feed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(feed["items"][0]["views"], 1, "{feed}");
    server.terminate();
}

/// `tribune user create` makes an account that can sign in, and refuses a clash clearly.
#[actix_web::test]
async fn user_create_makes_an_account_and_refuses_a_clash() {
    let db = TestDb::create();
    let create = |username: &str, role: &str| {
        tribune()
            .env("DATABASE_URL", &db.url)
            .env("TRIBUNE_PASSWORD", "editor-violet-harbour-42")
            .args(["user", "create", "--username", username])
            .args(["--email", "chief@example.com", "--role", role])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = create("chief", "editor");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("role editor"));

    let out = create("chief2", "editor");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("email is already taken"), "{stderr}");

    let out = create("chief3", "emperor");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));

    let settings = crate::helpers::test_settings(&db, &[]);
    let app = crate::helpers::TestApp::spawn_on(db, settings).await;
    let res = app.login("chief", "editor-violet-harbour-42").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["user"]["role"], "editor");
}

/// `tribune seed` fills a database that the feed then pages through.
#[actix_web::test]
async fn seed_fills_a_living_feed() {
    let db = TestDb::create();
    let out = tribune()
        .env("DATABASE_URL", &db.url)
        .args([
            "seed",
            "--users",
            "7",
            "--discussions",
            "1200",
            "--comments",
            "6000",
            "--subscribers",
            "1234",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settings = crate::helpers::test_settings(&db, &[]);
    let app = crate::helpers::TestApp::spawn_on(db, settings).await;
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users"),
        7
    );
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM discussions"),
        1200
    );
    assert_eq!(
        app.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM discussions d JOIN articles a ON a.discussion_id = d.id"
        ),
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM discussions WHERE kind = 'article'")
    );
    let page = app.feed("?limit=100").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert!(page["next_cursor"].is_string());
    let kinds: std::collections::HashSet<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "articles and topics");
    let articles = app.get("/api/v1/articles?limit=5").await.json();
    assert_eq!(articles["items"][0]["tags"].as_array().unwrap().len(), 2);

    assert_eq!(
        app.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM newsletter_subscribers WHERE status = 'confirmed'"
        ),
        1234
    );
    // Comment threads, with every counter equal to a recount.
    assert_eq!(
        app.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments"),
        6000
    );
    app.assert_counters_match_a_recount();
    assert!(
        app.number("SELECT CAST(MAX(depth) AS BIGINT) AS n FROM comments") >= 2,
        "nested replies"
    );
    // Half of them in one discussion, which pages like any other.
    let largest: i64 = stdout
        .split("largest thread: discussion ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the largest thread is named: {stdout}"));
    assert!(
        app.number(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments WHERE discussion_id = {largest}"
        )) >= 3000
    );
    let page = app.comments(largest, "?limit=100").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert!(page["next_cursor"].is_string());
    let page = app.comments(largest, "?sort=newest&limit=5").await.json();
    let first = page["items"][0]["created_at"].as_str().unwrap().to_string();
    let second = page["items"][1]["created_at"].as_str().unwrap().to_string();
    assert!(first >= second, "newest first: {first} {second}");
    // Ids reserved by the seed do not clash with the ones the server gives next.
    let reader = app.signed_up("reader").await;
    app.commented(&reader.access, largest, "After the seed.", None)
        .await;
    app.assert_counters_match_a_recount();
}
