use crate::helpers::TestApp;

const ALLOWED: &str = "https://news.example";

async fn preflight(app: &TestApp, origin: &str) -> crate::helpers::Response {
    let request = app
        .client
        .request(actix_web::http::Method::OPTIONS, app.url("/healthz"))
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", "GET"))
        .insert_header(("Access-Control-Request-Headers", "authorization"));
    app.send(request, None).await
}

#[actix_web::test]
async fn a_listed_origin_passes_the_preflight() {
    let app = TestApp::spawn_with(&[("TRIBUNE_CORS_ORIGINS", ALLOWED)]).await;
    let res = preflight(&app, ALLOWED).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
    let methods = res.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("GET"), "{methods}");

    let request = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("Origin", ALLOWED));
    let res = app.send(request, None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(ALLOWED));
}

#[actix_web::test]
async fn another_origin_gets_no_cors_headers() {
    let app = TestApp::spawn_with(&[("TRIBUNE_CORS_ORIGINS", ALLOWED)]).await;
    let res = preflight(&app, "https://evil.example").await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    res.problem(400);
}

#[actix_web::test]
async fn no_origin_is_allowed_by_default() {
    let app = TestApp::spawn().await;
    let res = preflight(&app, ALLOWED).await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    assert!(res.status >= 400);
}
