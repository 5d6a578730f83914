//! The OpenAPI document says what the server does: every operation lists the refusals it can
//! answer with the error envelope, request schemas state the limits the server enforces, and a
//! value the document's patterns admit is never refused. (`end2end/schemathesis.sh` checks the
//! same document against a live server, property by property.)
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::cidr::Allowlist;
use latchkey_domain::keys::Mode;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use store::keys::{DESCRIPTION_MAX, NAME_MAX};

async fn document(base: &str) -> Value {
    let r = read(
        http()
            .get(format!("{base}/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    r.body
}

/// Every operation as (`METHOD path`, operation object).
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    ops
}

fn secured_by(op: &Value, scheme: &str) -> bool {
    op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()))
}

fn schema(doc: &Value, name: &str) -> Value {
    doc["components"]["schemas"][name].clone()
}

/// A query or path parameter's schema.
fn param<'a>(op: &'a Value, name: &str) -> &'a Value {
    &op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
}

/// Strings valid for a string `schema` by its `pattern` (a whole-string `^…$` regex) and
/// lengths: `n` drawn deterministically, those within the lengths kept.
fn samples(schema: &Value, n: usize) -> Vec<String> {
    let pattern = schema["pattern"].as_str().unwrap();
    let body = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or_else(|| panic!("not anchored: {pattern}"));
    let min = schema["minLength"].as_u64().unwrap_or(0);
    let max = schema["maxLength"].as_u64().unwrap_or(u64::MAX);
    let strategy = proptest::string::string_regex(body).unwrap();
    let mut runner = TestRunner::deterministic();
    let kept: Vec<String> = (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .filter(|s| (min..=max).contains(&(s.chars().count() as u64)))
        .collect();
    assert!(kept.len() >= n / 2, "{pattern}: only {} of {n}", kept.len());
    kept
}

#[tokio::test]
async fn every_operation_documents_its_refusals_with_the_error_envelope() {
    let app = TestApp::new(&engines()[0]).await;
    let base = app.serve().await;
    let doc = document(&base).await;
    let envelope = json!({"$ref": "#/components/schemas/ErrorBody"});
    let ops = operations(&doc);
    assert_eq!(ops.len(), 29);
    for (name, op) in ops {
        // Leak reports need no credential (each token proves itself): only its own refusals.
        if name == "POST /v1/leaks" {
            assert!(op.get("security").is_none(), "{name}");
            for status in ["400", "401"] {
                assert_eq!(
                    op["responses"][status]["content"]["application/json"]["schema"], envelope,
                    "{name} {status}"
                );
            }
            assert!(op["responses"]["413"].is_object());
            continue;
        }
        let keyed = secured_by(op, "api_key");
        let operator = secured_by(op, "operator_token");
        assert!(
            keyed || operator || secured_by(op, "service_token"),
            "{name}: no security"
        );
        assert_eq!(operator, name.contains(" /v1/admin/"), "{name}");
        // `key_auth` and `operator_auth` answer these before any handler (every admin route
        // checks its token's scope); the service-token endpoints never answer 403, and those
        // with a body refuse a bad one (400, 422).
        let refusals: &[&str] = if keyed || operator {
            &["401", "403", "429", "503"]
        } else if op.get("requestBody").is_some() {
            &["400", "401", "422", "429", "503"]
        } else {
            &["401", "429", "503"]
        };
        let responses = &op["responses"];
        for status in refusals {
            let answer = &responses[*status];
            assert_eq!(
                answer["content"]["application/json"]["schema"], envelope,
                "{name} {status}: {answer}"
            );
            assert!(
                answer["headers"]["X-Request-Id"].is_object(),
                "{name} {status}"
            );
        }
        assert!(
            responses["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer",
            "{name}"
        );
        assert!(
            responses["401"]["headers"]["WWW-Authenticate"].is_object(),
            "{name}"
        );
        if keyed {
            let ok = responses
                .as_object()
                .unwrap()
                .iter()
                .find(|(s, _)| s.starts_with('2'))
                .unwrap()
                .1;
            for h in ["RateLimit-Policy", "RateLimit", "X-RateLimit-Remaining"] {
                assert!(ok["headers"][h].is_object(), "{name}: no {h}");
            }
        }
        // Bodies can be too large; the answer comes from the body limit, before `/v1`.
        if op.get("requestBody").is_some() {
            assert!(responses["413"].is_object(), "{name}");
            assert!(responses["400"].is_object(), "{name}");
        }
    }
    app.close().await;
}

#[tokio::test]
async fn request_schemas_state_the_limits_the_server_enforces() {
    let app = TestApp::with_settings(&engines()[0], |s| {
        s.scope_catalogue.push("reports:read".to_owned())
    })
    .await;
    let base = app.serve().await;
    let doc = document(&base).await;

    let create = schema(&doc, "CreateKeyRequest");
    assert_eq!(create["additionalProperties"], false);
    let props = &create["properties"];
    assert_eq!(props["name"]["minLength"], 1);
    assert_eq!(props["name"]["maxLength"], NAME_MAX);
    assert_eq!(props["description"]["maxLength"], DESCRIPTION_MAX);
    assert_eq!(props["allowlist"]["maxItems"], Allowlist::MAX_ENTRIES);
    assert_eq!(props["allowlist"]["maxItems"], 100);
    assert_eq!(props["scopes"]["minItems"], 1);
    // The scopes are the server's catalogue, the operator's additions included.
    let mut listed: Vec<String> =
        serde_json::from_value(props["scopes"]["items"]["enum"].clone()).unwrap();
    let mut catalogue = app.state.settings.scope_catalogue.clone();
    listed.sort();
    catalogue.sort();
    assert_eq!(listed, catalogue);
    assert!(listed.iter().any(|s| s == "reports:read"));
    assert_eq!(props["mode"]["enum"], json!(["live", "test", null]));
    assert_eq!(props["expires_on"]["format"], "date");
    for field in ["name", "description", "expires_on"] {
        assert!(props[field]["pattern"].is_string(), "{field}");
    }

    let update = schema(&doc, "UpdateKeyRequest");
    assert_eq!(update["additionalProperties"], false);
    let uprops = update["properties"].as_object().unwrap();
    let mut fields: Vec<&str> = uprops.keys().map(String::as_str).collect();
    fields.sort();
    // `mode` and `scopes` are refused (422): the document does not offer them.
    assert_eq!(fields, ["allowlist", "description", "enabled", "name"]);
    assert_eq!(uprops["name"]["maxLength"], NAME_MAX);
    assert_eq!(uprops["allowlist"]["maxItems"], 100);

    for path in ["/v1/keys", "/v1/audit-events"] {
        let op = &doc["paths"][path]["get"];
        let limit = param(op, "limit");
        assert_eq!(
            (&limit["minimum"], &limit["maximum"], &limit["default"]),
            (&json!(1), &json!(100), &json!(50)),
            "{path}"
        );
        assert_eq!(param(op, "cursor")["pattern"], "^[0-9]{1,18}$", "{path}");
    }
    let reason = param(&doc["paths"]["/v1/keys/{id}"]["delete"], "reason");
    assert_eq!(reason["maxLength"], DESCRIPTION_MAX);
    let ip = &schema(&doc, "VerifyRequest")["properties"]["ip"]["oneOf"];
    assert_eq!(ip[0]["format"], "ipv4");
    assert_eq!(ip[1]["format"], "ipv6");
    app.close().await;
}

/// Sends `PATCH /v1/keys/{id}` and returns the status and body.
async fn patch(base: &str, key: &str, id: &str, body: &Value) -> HttpResp {
    read(
        http()
            .patch(format!("{base}/v1/keys/{id}"))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn is_calendar_date(s: &str) -> bool {
    let parts: Vec<u32> = s.split('-').filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts[..] else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[tokio::test]
async fn values_the_document_admits_are_never_refused() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let doc = document(&base).await;
        let caller = app.make_key("acme", &["*"], Mode::Live, "").await;
        let target = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let create = schema(&doc, "CreateKeyRequest");
        let field = |name: &str| create["properties"][name].clone();

        for name in samples(&field("name"), 150) {
            let r = patch(&base, &caller.secret, &target.id, &json!({ "name": name })).await;
            assert_eq!(r.status, 200, "name {name:?}: {:?}", r.body);
        }
        for description in samples(&field("description"), 150) {
            let body = json!({ "description": description });
            let r = patch(&base, &caller.secret, &target.id, &body).await;
            assert_eq!(r.status, 200, "description {description:?}: {:?}", r.body);
        }
        // Entries by the CIDR patterns, a full allowlist at a time.
        let entries = &create["properties"]["allowlist"]["items"]["anyOf"];
        for i in [2, 3] {
            for chunk in samples(&entries[i], 300).chunks(Allowlist::MAX_ENTRIES) {
                let r = patch(
                    &base,
                    &caller.secret,
                    &target.id,
                    &json!({ "allowlist": chunk }),
                )
                .await;
                assert_eq!(r.status, 200, "allowlist {chunk:?}: {:?}", r.body);
            }
        }
        // Expiry dates: what the pattern admits and the calendar has.
        let dates: Vec<String> = samples(&field("expires_on"), 4000)
            .into_iter()
            .filter(|d| is_calendar_date(d))
            .take(40)
            .collect();
        assert!(dates.len() >= 20, "{dates:?}");
        for date in dates {
            let body = json!({"name": "dated", "scopes": ["keys:read"], "expires_on": date});
            let r = read(
                http()
                    .post(format!("{base}/v1/keys"))
                    .bearer_auth(&caller.secret)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(r.status, 201, "expires_on {date:?}: {:?}", r.body);
            let id = r.body["key"]["id"].as_str().unwrap();
            let gone = read(
                http()
                    .delete(format!("{base}/v1/keys/{id}"))
                    .bearer_auth(&caller.secret)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(gone.status, 200);
        }
        // Revoke reasons, on a key already revoked (each answer is the key as it is).
        let reason = param(&doc["paths"]["/v1/keys/{id}"]["delete"], "reason").clone();
        for reason in samples(&reason, 100) {
            let r = read(
                http()
                    .delete(format!("{base}/v1/keys/{}", target.id))
                    .query(&[("reason", &reason)])
                    .bearer_auth(&caller.secret)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(r.status, 200, "reason {reason:?}: {:?}", r.body);
        }
        app
    })
    .await;
}

#[tokio::test]
async fn text_with_a_nul_matches_nothing_on_every_engine() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            use sha2::Digest as _;
            s.service_token_sha256 = Some(sha2::Sha256::digest(b"svc-token-123").into());
        })
        .await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["*"], Mode::Live, "").await;
        // PostgreSQL refuses NUL in a text parameter: these were 500s there.
        for path in [
            "/v1/keys?search=%00",
            "/v1/audit-events?actor=a%00",
            "/v1/audit-events?target_id=%00&action=api_key.created",
        ] {
            let r = get_with_key(&base, path, Some(&key.secret)).await;
            assert_eq!(r.status, 200, "{path} on {}: {:?}", app.engine, r.body);
            assert_eq!(r.body["data"], json!([]), "{path}");
        }
        let r = get_with_key(&base, "/v1/keys/key_%00", Some(&key.secret)).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{}", app.engine);
        let r = patch(&base, &key.secret, "key_%00", &json!({"name": "x"})).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{}", app.engine);

        // A scope with a NUL is logged with it replaced, not lost with the rest of its batch.
        app.state.verifier.usage.flush().await;
        let before = app.scalar_i64("SELECT COUNT(*) FROM request_logs").await;
        let r = read(
            http()
                .post(format!("{base}/v1/verify"))
                .bearer_auth("svc-token-123")
                .json(&json!({"key": key.secret, "scope": "a\u{0}b"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["valid"], true, "{:?}", r.body);
        get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        app.state.verifier.usage.flush().await;
        let after = app.scalar_i64("SELECT COUNT(*) FROM request_logs").await;
        assert_eq!(after - before, 2, "usage rows lost on {}", app.engine);
        app.close().await;
    }
}

#[tokio::test]
async fn an_id_that_is_not_utf8_is_refused_in_the_envelope() {
    let app = TestApp::new(&engines()[0]).await;
    let base = app.serve().await;
    let key = app.make_key("acme", &["*"], Mode::Live, "").await;
    for method in ["GET", "PATCH", "DELETE"] {
        let mut req = http()
            .request(method.parse().unwrap(), format!("{base}/v1/keys/key_%FF"))
            .bearer_auth(&key.secret);
        if method == "PATCH" {
            req = req.json(&json!({}));
        }
        let r = read(req.send().await.unwrap()).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{method}");
        assert!(r.header("x-request-id").is_some(), "{method}");
    }
    app.close().await;
}
