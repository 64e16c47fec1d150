//! `TestApp`: the real server, started on a fresh database for one test, with a method per
//! endpoint. SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set (each test gets a
//! database of its own, dropped afterwards).

use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::HeaderMap;
use actix_web::web::Bytes;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::RngCore;
use serde_json::Value;
use tribune::config::{Settings, Source};
use tribune::startup::Application;

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A database of one test's own, removed when dropped.
pub struct TestDb {
    pub url: String,
    dir: PathBuf,
    postgres: Option<(String, String)>, // (admin url, database name)
    /// Whether dropping this removes the database (false for [`TestDb::share`]'s copies).
    owned: bool,
}

impl TestDb {
    pub fn create() -> TestDb {
        let dir = std::env::temp_dir().join(format!("tribune-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("tribune_test_{}", random_suffix());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL does not connect: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = with_database(&admin_url, &name);
                TestDb {
                    url,
                    dir,
                    postgres: Some((admin_url, name)),
                    owned: true,
                }
            }
            _ => TestDb {
                url: format!("sqlite://{}", dir.join("tribune.db").display()),
                dir,
                postgres: None,
                owned: true,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }

    /// The same database for a second server (another process of one site); the original
    /// removes it.
    pub fn share(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            dir: self.dir.clone(),
            postgres: self.postgres.clone(),
            owned: false,
        }
    }
}

/// `postgres://u@h:5432/admin?x=y` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A response, read whole.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("UTF-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as a problem document, checking that it is one, with this status.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of a {} answer",
            self.status
        );
        let problem = self.json();
        assert_eq!(problem["status"], status, "{problem}");
        for member in ["type", "title", "detail"] {
            assert!(problem[member].is_string(), "{member} missing: {problem}");
        }
        problem
    }
}

/// A browser's user agent, for requests that stand for a reader (views count only for readers).
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    pub db: TestDb,
    handle: ServerHandle,
}

fn init_test_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let settings = Settings::from_source(&Source::from_pairs([(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )]))
            .expect("log settings");
            tribune::telemetry::init_logging(&settings);
        }
    });
}

/// Settings for a test: its own database and mail folder, port 0, one worker, no rate limits;
/// `extra` overrides any of them.
pub fn test_settings(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mail_dir = db.dir().join("mail").display().to_string();
    let mut pairs: Vec<(String, String)> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TRIBUNE_LISTEN", "127.0.0.1:0"),
        ("TRIBUNE_WORKERS", "1"),
        ("TRIBUNE_DB_POOL_SIZE", "4"),
        ("TRIBUNE_RATE_LIMITS", "off"),
        ("TRIBUNE_MAIL_DIR", mail_dir.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_source(&Source::from_pairs(pairs)).expect("test settings are valid")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let db = TestDb::create();
        let settings = test_settings(&db, extra);
        Self::spawn_on(db, settings).await
    }

    pub async fn spawn_on(db: TestDb, settings: Settings) -> TestApp {
        init_test_logging();
        let app = Application::build(settings)
            .await
            .expect("the application starts");
        let port = app.port();
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            // Requests stand for a reader's browser unless a test says otherwise.
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .disable_redirects()
                .add_default_header(("User-Agent", BROWSER))
                .finish(),
            db,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request built by the caller and reads the whole answer.
    pub async fn send(&self, request: awc::ClientRequest, body: Option<Bytes>) -> Response {
        let sent = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        };
        let mut response = sent.expect("the server answers");
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("a readable body");
        Response {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.client.get(self.url(path)), None).await
    }

    pub async fn healthz(&self) -> Response {
        self.get("/healthz").await
    }

    pub async fn readyz(&self) -> Response {
        self.get("/readyz").await
    }

    pub async fn metrics(&self) -> Response {
        self.get("/metrics").await
    }

    pub async fn openapi(&self) -> Response {
        self.get("/api-spec/openapi.yaml").await
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        match body {
            Some(body) => {
                let request = request.insert_header(("Content-Type", "application/json"));
                self.send(request, Some(Bytes::from(body.to_string())))
                    .await
            }
            None => self.send(request, None).await,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_json("POST", path, None, Some(body)).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.send_json("GET", path, Some(token), None).await
    }

    /// What a browser sends when the button of one of our pages is pressed: an empty form
    /// POST to `path`, asking for HTML.
    pub async fn press_page_button(&self, path: &str) -> Response {
        let request = self
            .client
            .post(self.url(path))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"));
        self.send(request, Some(Bytes::new())).await
    }

    // -- moderation --

    /// `POST /api/v1/admin/discussions/{id}/{action}`: `lock`, `unlock`, `pin` or `unpin`.
    pub async fn moderate_discussion(&self, token: &str, id: i64, action: &str) -> Response {
        let path = format!("/api/v1/admin/discussions/{id}/{action}");
        self.send_json("POST", &path, Some(token), None).await
    }

    /// `DELETE /api/v1/admin/discussions/{id}`.
    pub async fn delete_topic_as_staff(&self, token: &str, id: i64) -> Response {
        let path = format!("/api/v1/admin/discussions/{id}");
        self.send_json("DELETE", &path, Some(token), None).await
    }

    /// `POST /api/v1/admin/comments/{id}/{action}`: `hide` or `restore`, with a body or none.
    pub async fn moderate_comment(
        &self,
        token: &str,
        id: i64,
        action: &str,
        body: Option<&Value>,
    ) -> Response {
        let path = format!("/api/v1/admin/comments/{id}/{action}");
        self.send_json("POST", &path, Some(token), body).await
    }

    /// `POST /api/v1/admin/reports/{id}/resolve` with `{"action": action}`.
    pub async fn resolve_report(&self, token: Option<&str>, id: i64, action: &str) -> Response {
        let path = format!("/api/v1/admin/reports/{id}/resolve");
        let body = serde_json::json!({ "action": action });
        self.send_json("POST", &path, token, Some(&body)).await
    }

    /// `POST /api/v1/admin/users/{id}/ban`.
    pub async fn ban(&self, token: &str, id: i64, body: &Value) -> Response {
        let path = format!("/api/v1/admin/users/{id}/ban");
        self.send_json("POST", &path, Some(token), Some(body)).await
    }

    /// `POST /api/v1/admin/users/{id}/unban`.
    pub async fn unban(&self, token: &str, id: i64) -> Response {
        let path = format!("/api/v1/admin/users/{id}/unban");
        self.send_json("POST", &path, Some(token), None).await
    }

    /// `PUT /api/v1/admin/users/{id}/role` with `{"role": role}`.
    pub async fn put_role(&self, token: &str, id: i64, role: &str) -> Response {
        let path = format!("/api/v1/admin/users/{id}/role");
        let body = serde_json::json!({ "role": role });
        self.send_json("PUT", &path, Some(token), Some(&body)).await
    }

    // -- accounts --

    pub async fn register(&self, body: &Value) -> Response {
        self.post("/api/v1/auth/register", body).await
    }

    /// Registers `name` (email `name@example.com`, password [`PASSWORD`]) and returns its tokens.
    pub async fn signed_up(&self, name: &str) -> Tokens {
        let res = self
            .register(&serde_json::json!({
                "username": name,
                "email": format!("{name}@example.com"),
                "password": PASSWORD,
            }))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        Tokens::from(&res)
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            &serde_json::json!({"login": login, "password": password}),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn logout(&self, refresh_token: &str) -> Response {
        self.post(
            "/api/v1/auth/logout",
            &serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn me(&self, token: &str) -> Response {
        self.get_as("/api/v1/me", token).await
    }

    pub async fn update_me(&self, token: &str, body: &Value) -> Response {
        self.send_json("PATCH", "/api/v1/me", Some(token), Some(body))
            .await
    }

    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Response {
        let body = serde_json::json!({"current_password": current, "new_password": new});
        self.send_json("POST", "/api/v1/me/password", Some(token), Some(&body))
            .await
    }

    pub async fn sessions(&self, token: &str) -> Response {
        self.get_as("/api/v1/me/sessions", token).await
    }

    pub async fn end_session(&self, token: &str, id: i64) -> Response {
        self.send_json(
            "DELETE",
            &format!("/api/v1/me/sessions/{id}"),
            Some(token),
            None,
        )
        .await
    }

    pub async fn profile(&self, username: &str) -> Response {
        self.get(&format!("/api/v1/users/{username}")).await
    }

    pub async fn password_reset(&self, email: &str) -> Response {
        self.post(
            "/api/v1/auth/password-reset",
            &serde_json::json!({ "email": email }),
        )
        .await
    }

    pub async fn password_reset_confirm(&self, token: &str, new_password: &str) -> Response {
        self.post(
            "/api/v1/auth/password-reset/confirm",
            &serde_json::json!({"token": token, "new_password": new_password}),
        )
        .await
    }

    /// An account with the editor role, signed in again so that its token says so.
    pub async fn editor(&self, name: &str) -> Tokens {
        self.with_role(name, "editor").await
    }

    // -- articles and discussions --

    pub async fn create_article(&self, token: &str, body: &Value) -> Response {
        self.send_json("POST", "/api/v1/articles", Some(token), Some(body))
            .await
    }

    pub async fn create_topic(&self, token: &str, title: &str, body: &str) -> Response {
        let body = serde_json::json!({"title": title, "body": body});
        self.send_json("POST", "/api/v1/discussions", Some(token), Some(&body))
            .await
    }

    /// A topic's id, created by `token`'s user.
    pub async fn topic(&self, token: &str, title: &str) -> i64 {
        let res = self.create_topic(token, title, "Something to say.").await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["id"].as_i64().unwrap()
    }

    pub async fn feed(&self, query: &str) -> Response {
        self.get(&format!("/api/v1/discussions{query}")).await
    }

    // -- comments --

    /// The comment threads of discussion `id`; `query` starts with `?` or is empty.
    pub async fn comments(&self, id: i64, query: &str) -> Response {
        self.get(&format!("/api/v1/discussions/{id}/comments{query}"))
            .await
    }

    pub async fn comment(
        &self,
        token: &str,
        discussion: i64,
        body: &str,
        parent: Option<i64>,
    ) -> Response {
        let body = serde_json::json!({"body": body, "parent_id": parent});
        self.send_json(
            "POST",
            &format!("/api/v1/discussions/{discussion}/comments"),
            Some(token),
            Some(&body),
        )
        .await
    }

    /// Posts a comment that must succeed; its id.
    pub async fn commented(
        &self,
        token: &str,
        discussion: i64,
        body: &str,
        parent: Option<i64>,
    ) -> i64 {
        let res = self.comment(token, discussion, body, parent).await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["id"].as_i64().unwrap()
    }

    pub async fn edit_comment(&self, token: &str, id: i64, body: &str) -> Response {
        let body = serde_json::json!({ "body": body });
        self.send_json(
            "PATCH",
            &format!("/api/v1/comments/{id}"),
            Some(token),
            Some(&body),
        )
        .await
    }

    pub async fn delete_comment(&self, token: &str, id: i64) -> Response {
        self.send_json(
            "DELETE",
            &format!("/api/v1/comments/{id}"),
            Some(token),
            None,
        )
        .await
    }

    pub async fn vote(&self, token: &str, id: i64, value: i64) -> Response {
        let body = serde_json::json!({ "value": value });
        self.send_json(
            "POST",
            &format!("/api/v1/comments/{id}/vote"),
            Some(token),
            Some(&body),
        )
        .await
    }

    pub async fn report(&self, token: &str, id: i64, reason: &str) -> Response {
        let body = serde_json::json!({ "reason": reason });
        self.send_json(
            "POST",
            &format!("/api/v1/comments/{id}/report"),
            Some(token),
            Some(&body),
        )
        .await
    }

    /// An account with role `role`, given through the API by the site's first admin, and
    /// signed in again so that its token says so.
    pub async fn with_role(&self, name: &str, role: &str) -> Tokens {
        let tokens = self.signed_up(name).await;
        if role != "user" {
            self.set_role(tokens.user_id, role).await;
        }
        Tokens::from(&self.login(name, PASSWORD).await)
    }

    /// Gives account `id` role `role` through `PUT /api/v1/admin/users/{id}/role`, as the site's
    /// first admin.
    pub async fn set_role(&self, id: i64, role: &str) {
        let admin = self.first_admin().await;
        let res = self
            .send_json(
                "PUT",
                &format!("/api/v1/admin/users/{id}/role"),
                Some(&admin.access),
                Some(&serde_json::json!({ "role": role })),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }

    /// The site's first admin (`root`), made as `tribune user create --role admin` makes one,
    /// on first use; signed in.
    pub async fn first_admin(&self) -> Tokens {
        let res = self.login("root", PASSWORD).await;
        if res.status == 200 {
            return Tokens::from(&res);
        }
        let target = tribune::config::DatabaseTarget::parse(&self.db.url).unwrap();
        let db = actix_web::rt::task::spawn_blocking(move || {
            tribune::db::Db::connect_and_migrate(
                &target,
                1,
                Duration::from_secs(5),
                tribune::db::Checkpoints::OnCommit,
            )
        })
        .await
        .unwrap()
        .expect("the test database");
        let account = tribune::accounts::NewAccount {
            request: serde_json::from_value(serde_json::json!({
                "username": "root", "email": "root@example.com", "password": PASSWORD,
            }))
            .unwrap(),
            role: tribune::auth::Role::Admin,
        };
        tribune::accounts::create_account(&db, &tribune::auth::password::Hasher::new(1), account)
            .await
            .expect("the first admin");
        Tokens::from(&self.login("root", PASSWORD).await)
    }

    /// Checks every denormalized comment counter against a recount of visible comments.
    pub fn assert_counters_match_a_recount(&self) {
        self.db.assert_counters_match_a_recount()
    }

    /// Waits for the view counter's flush (about every second).
    pub async fn after_flush(&self) {
        actix_web::rt::time::sleep(Duration::from_millis(1600)).await;
    }

    /// Another server on this test's database, as a second process of the same site would be.
    pub async fn another_process(&self, extra: &[(&str, &str)]) -> TestApp {
        let db = self.db.share();
        let settings = test_settings(&db, extra);
        TestApp::spawn_on(db, settings).await
    }

    /// Moves `table.column` back by `seconds` in every row (as if that much time had passed).
    pub fn age(&self, table: &str, column: &str, seconds: i64) {
        if self.db.is_postgres() {
            self.sql(&format!(
                "UPDATE {table} SET {column} = {column} - INTERVAL '{seconds} seconds'"
            ));
        } else {
            self.sql(&format!(
                "UPDATE {table} SET {column} = strftime('%Y-%m-%d %H:%M:%f', {column}, '-{seconds} seconds')"
            ));
        }
    }

    /// Runs the `tribune` binary with `args` on this test's database: whether it succeeded,
    /// and its standard output then error.
    pub fn tribune(&self, args: &[&std::ffi::OsStr]) -> (bool, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tribune"))
            .env_clear()
            .env("TRIBUNE_CONFIG", "/dev/null")
            .env("DATABASE_URL", &self.db.url)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// `tribune purge` on this test's database; its output (it must succeed).
    pub fn purge(&self) -> String {
        let (ok, out) = self.tribune(&["purge".as_ref()]);
        assert!(ok, "{out}");
        out
    }

    /// Runs a statement straight on the test's database (to set up what no endpoint does yet).
    pub fn sql(&self, statement: &str) {
        self.db.sql(statement)
    }

    /// One number from the test's database: `query` must select it `AS n`.
    pub fn number(&self, query: &str) -> i64 {
        self.db.number(query)
    }

    pub fn connection(&self) -> tribune::db::DbConn {
        self.db.connection()
    }
}

impl TestDb {
    /// Checks every denormalized comment counter against a recount of visible comments.
    pub fn assert_counters_match_a_recount(&self) {
        let off = self.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM discussions d WHERE d.replies <> \
             (SELECT COUNT(*) FROM comments c WHERE c.discussion_id = d.id AND c.status = 'visible')",
        );
        assert_eq!(off, 0, "discussions whose replies differ from a recount");
        let off = self.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users u WHERE u.comments_count <> \
             (SELECT COUNT(*) FROM comments c WHERE c.author_id = u.id AND c.status = 'visible')",
        );
        assert_eq!(off, 0, "users whose comments_count differs from a recount");
        let off = self.number(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM comments c WHERE c.score <> \
             (SELECT COALESCE(SUM(v.value), 0) FROM comment_votes v WHERE v.comment_id = c.id)",
        );
        assert_eq!(off, 0, "comments whose score differs from their votes");
    }

    /// Runs a statement straight on the database.
    pub fn sql(&self, statement: &str) {
        let mut conn = self.connection();
        diesel::sql_query(statement)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    /// One number from the database: `query` must select it `AS n`.
    pub fn number(&self, query: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.connection();
        let row: Row = diesel::sql_query(query)
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        row.n
    }

    pub fn connection(&self) -> tribune::db::DbConn {
        let target = tribune::config::DatabaseTarget::parse(&self.url).unwrap();
        tribune::db::connect(&target).unwrap()
    }
}

/// The password `signed_up` gives every account.
pub const PASSWORD: &str = "plum-violet-harbour-27";

/// A session's tokens, from a register, login or refresh answer.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: i64,
}

impl From<&Response> for Tokens {
    fn from(res: &Response) -> Tokens {
        let body = res.json();
        Tokens {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
            user_id: body["user"]["id"].as_i64().expect("user.id"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the future only waits for it to complete.
        drop(self.handle.stop(false));
    }
}
