use crate::helpers::TestApp;

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/no-such-thing").await;
    let problem = res.problem(404);
    assert_eq!(problem["type"], "urn:tribune:problem:no-route");
    assert_eq!(problem["title"], "Not Found");
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_that_lists_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let res = app.send(app.client.post(app.url("/healthz")), None).await;
    let problem = res.problem(405);
    assert_eq!(problem["type"], "urn:tribune:problem:method-not-allowed");
    assert_eq!(res.header("allow"), Some("GET"));
    let res = app.send(app.client.delete(app.url("/readyz")), None).await;
    res.problem(405);
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let request = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .insert_header(("Content-Type", "application/json"));
    let res = app.send(request, Some("{\"username\": ".into())).await;
    let problem = res.problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("JSON"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .insert_header(("Content-Type", "text/plain"));
    let res = app.send(request, Some("login=x".into())).await;
    let problem = res.problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("Content-Type"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = TestApp::spawn().await;
    let big = serde_json::json!({"login": "x".repeat(70 * 1024), "password": "y"}).to_string();
    let request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .insert_header(("Content-Type", "application/json"));
    let res = app.send(request, Some(big.into())).await;
    res.problem(413);
}
