//! Helpers for the operator API's tests: an app with resource types and a service token, an
//! operator token, and calls with it.

use super::{http, read, Engine, HttpResp, TestApp};
use serde_json::Value;

/// At least 32 bytes: `serve` refuses shorter ones (the multi-replica tests start processes).
pub const SERVICE_TOKEN: &str = "svc-token-for-the-operator-api-tests";

/// An app that declares `account=Bank account` and has a service token.
pub async fn app(engine: &Engine) -> TestApp {
    TestApp::with_settings(engine, |s| {
        use sha2::Digest as _;
        s.resource_types = vec!["account=Bank account".parse().unwrap()];
        // The refusal matrix sends many wrong tokens from one address.
        s.failed_auth_per_minute = 10_000;
        s.service_token_sha256 = Some(sha2::Sha256::digest(SERVICE_TOKEN.as_bytes()).into());
    })
    .await
}

/// A fresh operator token with these scopes (every scope when empty).
pub async fn token(app: &TestApp, scopes: &[&str]) -> String {
    let name = format!("t-{}", latchkey_domain::keys::random_base62(8));
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, secret) =
        store::operator::tokens::create(&app.state.db, &app.state.pepper, &name, &scopes)
            .await
            .unwrap();
    secret.expose().to_owned()
}

/// `METHOD base+path` with the operator token and an optional JSON body and idempotency key.
pub async fn admin(
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> HttpResp {
    let mut req = http()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(k) = idempotency_key {
        req = req.header("Idempotency-Key", k);
    }
    read(req.send().await.unwrap()).await
}

/// `POST /v1/verify` for `key`, optionally naming a resource; the verdict body.
pub async fn verify(base: &str, key: &str, resource: Option<(&str, &str)>) -> Value {
    let mut body = serde_json::json!({ "key": key });
    if let Some((kind, id)) = resource {
        body["resource"] = serde_json::json!({ "type": kind, "id": id });
    }
    let r = read(
        http()
            .post(format!("{base}/v1/verify"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}
