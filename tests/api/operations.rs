use crate::helpers::TestApp;

#[actix_web::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let res = app.healthz().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), serde_json::json!({"status": "ok"}));
}

#[actix_web::test]
async fn readyz_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let res = app.readyz().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "ready");
}

#[actix_web::test]
async fn every_response_carries_the_protective_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    for res in [app.healthz().await, app.get("/no/such/route").await] {
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(res.header("x-frame-options"), Some("DENY"));
        let id = res.header("x-request-id").expect("a request id");
        assert!(id.len() >= 16, "{id}");
    }
    let a = app.healthz().await;
    let b = app.healthz().await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}

#[actix_web::test]
async fn authenticated_responses_are_not_cached() {
    let app = TestApp::spawn().await;
    let anonymous = app.healthz().await;
    assert_eq!(anonymous.header("cache-control"), None);
    let request = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("Authorization", "Bearer some-token"));
    let res = app.send(request, None).await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn metrics_count_requests_per_route_and_status_and_show_the_pool() {
    let app = TestApp::spawn().await;
    app.healthz().await;
    app.healthz().await;
    app.get("/no/such/route").await;
    let res = app.metrics().await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text();
    assert!(
        text.contains(
            r#"tribune_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"tribune_http_requests_total{method="GET",route="<unmatched>",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"tribune_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(text.contains("tribune_db_pool_connections "), "{text}");
    assert!(text.contains("tribune_db_pool_max_connections 4"), "{text}");
}

/// A database that goes away under a running server: `/readyz` says 503 quickly, and 200
/// again once the database is back, without a restart. PostgreSQL only: the test puts a TCP
/// proxy between the server and the database and cuts it.
#[actix_web::test]
async fn readyz_follows_the_database_going_away_and_coming_back() {
    use crate::helpers::{TestDb, test_settings};
    use std::time::{Duration, Instant};

    let db = TestDb::create();
    if !db.is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let upstream = upstream_address(&db.url);
    let proxy = proxy::Proxy::start(upstream.clone()).await;
    let url = db.url.replace(&upstream, &proxy.address());
    assert_ne!(url, db.url, "TEST_DATABASE_URL must name host:port");
    let settings = test_settings(&db, &[("DATABASE_URL", url.as_str())]);
    let app = TestApp::spawn_on(db, settings).await;
    assert_eq!(app.readyz().await.status, 200);

    proxy.cut();
    let started = Instant::now();
    let res = app.readyz().await;
    res.problem(503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(res.header("retry-after").is_some());

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.readyz().await.status;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the database came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `host:port` of a PostgreSQL URL.
pub fn upstream_address(url: &str) -> String {
    let after_scheme = &url[url.find("://").unwrap() + 3..];
    let host_port = after_scheme.split('/').next().unwrap();
    let host_port = host_port.rsplit('@').next().unwrap();
    if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    }
}

pub mod proxy {
    //! A TCP proxy that can be cut (every connection closed, the port refusing) and restored.
    use std::sync::{Arc, Mutex};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    pub struct Proxy {
        upstream: String,
        port: u16,
        tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    }

    impl Proxy {
        pub async fn start(upstream: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let proxy = Proxy {
                upstream,
                port,
                tasks: Arc::default(),
            };
            proxy.serve(listener);
            proxy
        }

        pub fn address(&self) -> String {
            format!("127.0.0.1:{}", self.port)
        }

        fn serve(&self, listener: TcpListener) {
            let upstream = self.upstream.clone();
            let tasks = self.tasks.clone();
            let accept = tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let upstream = upstream.clone();
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    tasks.lock().unwrap().push(pipe);
                }
            });
            self.tasks.lock().unwrap().push(accept);
        }

        /// Closes every connection and the listening port.
        pub fn cut(&self) {
            for task in self.tasks.lock().unwrap().drain(..) {
                task.abort();
            }
        }

        /// Listens again on the same port.
        pub async fn restore(&self) {
            let listener = TcpListener::bind(self.address()).await.unwrap();
            self.serve(listener);
        }
    }
}
