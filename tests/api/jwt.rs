//! Every way an access token can be wrong gets a 401.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const SECRET: &str = "test-secret-of-at-least-thirty-two-chars";
const ISSUER: &str = "http://localhost:8080";

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(user_id: i64, session_id: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": user_id.to_string(), "role": "user", "sid": session_id,
        "iat": now, "exp": now + 600, "iss": ISSUER, "aud": "tribune", "typ": "access",
    })
}

#[actix_web::test]
async fn every_flawed_access_token_is_a_401() {
    let app = TestApp::spawn_with(&[("TRIBUNE_JWT_SECRET", SECRET)]).await;
    let tokens = app.signed_up("holder").await;
    let session_id = app.sessions(&tokens.access).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let good = claims(tokens.user_id, session_id);
    // Our own signing works, so the failures below are about the flaw alone.
    assert_eq!(app.me(&sign(&good, SECRET)).await.status, 200);

    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        sign(&c, SECRET)
    };
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(payload.to_string()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(good.to_string())
    );
    let now = chrono::Utc::now().timestamp();
    let cases = [
        ("alg none", alg_none),
        ("changed payload", tampered),
        (
            "another key",
            sign(&good, "another-secret-of-at-least-32-chars!!"),
        ),
        ("expired", with("exp", json!(now - 3600))),
        ("wrong audience", with("aud", json!("someone-else"))),
        ("wrong issuer", with("iss", json!("https://evil.example"))),
        ("not an access token", with("typ", json!("refresh"))),
        ("a refresh token", tokens.refresh.clone()),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let res = app.me(&token).await;
        assert_eq!(res.status, 401, "{name}: {}", res.text());
        assert_eq!(res.header("www-authenticate"), Some("Bearer"), "{name}");
        res.problem(401);
    }
    let res = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .insert_header(("Authorization", "Basic dXNlcjpwYXNz")),
            None,
        )
        .await;
    res.problem(401);
}

#[actix_web::test]
async fn without_a_configured_secret_the_generated_key_survives_a_restart() {
    let app = TestApp::spawn().await;
    let tokens = app.signed_up("keeper").await;
    let settings = crate::helpers::test_settings(&app.db, &[]);
    // A second server on the same database signs and checks with the same key.
    let second = tribune::startup::Application::build(settings)
        .await
        .unwrap();
    let port = second.port();
    actix_web::rt::spawn(second.run_until_stopped());
    let res = app
        .send(
            app.client
                .get(format!("http://127.0.0.1:{port}/api/v1/me"))
                .insert_header(("Authorization", format!("Bearer {}", tokens.access))),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}
