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
