//! The OpenAPI document: committed, served and generated must be one, and every route in it
//! must be served.

use crate::helpers::TestApp;

const COMMITTED: &str = "api-spec/openapi.yaml";

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED)
}

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let generated = tribune::openapi::yaml();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "{COMMITTED} differs from the code. Regenerate it with:\n    \
         cargo run -- openapi > {COMMITTED}\n(or UPDATE_OPENAPI=1 cargo test --test api spec)"
    );
}

#[test]
fn the_spec_is_openapi_3_1_with_problem_errors() {
    let generated = tribune::openapi::yaml();
    assert!(generated.starts_with("openapi: 3.1.0\n"), "{generated}");
    let doc = tribune::openapi::document();
    let components = doc.components.expect("components");
    assert!(components.schemas.contains_key("Problem"));
}

#[test]
fn every_schema_reference_resolves() {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        ("$ref", Some(target)) => out.push(target.to_string()),
                        _ => refs(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(tribune::openapi::document()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{target} does not exist"
        );
    }
    // Names are global: the comment status enum must not take the place of /readyz's body.
    let status = &doc["components"]["schemas"]["Status"];
    assert_eq!(status["type"], "object", "{status}");
}

#[test]
fn operation_ids_are_unique() {
    let doc = tribune::openapi::document();
    let mut seen = std::collections::HashSet::new();
    for item in doc.paths.paths.values() {
        for operation in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
            .into_iter()
            .flatten()
        {
            let id = operation.operation_id.clone().expect("an operationId");
            assert!(seen.insert(id.clone()), "operationId {id} twice");
        }
    }
}

#[actix_web::test]
async fn the_server_serves_the_spec() {
    let app = TestApp::spawn().await;
    let res = app.openapi().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/yaml"));
    assert_eq!(res.text(), tribune::openapi::yaml());
}

/// Each (method, path) of the document reaches a handler: the answer is never the router's
/// "no such route" or "method not allowed".
#[actix_web::test]
async fn every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let doc = tribune::openapi::document();
    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, _) in methods.iter().filter(|(_, present)| *present) {
            let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
            let request = app.client.request(method.clone(), app.url(&concrete));
            if path == "/api/v1/discussions/stream" {
                // An endless event stream: its head is the answer.
                let res = request.send().await.unwrap();
                assert_eq!(res.status(), 200, "{method} {path}");
                checked += 1;
                continue;
            }
            let res = app.send(request, None).await;
            assert_ne!(res.status, 405, "{method} {path}");
            if res.status == 404 {
                assert_ne!(
                    res.json()["type"],
                    "urn:tribune:problem:no-route",
                    "{method} {path}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} routes in the document");
}
