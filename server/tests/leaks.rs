//! Leak response through the real HTTP server, on both engines: a reported key is refused on
//! its very next call (also when it was cached), stopped by the organisation's policy, marked
//! with the report's address and announced; junk and real keys get byte-identical answers;
//! signed reports must verify when a key is configured; a key can revoke itself.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::receiver::Receiver;
use common::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::webhooks::{KeySafety, LeakPolicy};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use serde_json::json;
use std::time::Duration;
use store::audit::Actor;

const FOUND_AT: &str = "https://github.com/acme/app/blob/main/.env";

async fn app(engine: &Engine, keys: &[&SigningKey]) -> TestApp {
    let pems: Vec<String> = keys
        .iter()
        .map(|k| {
            k.verifying_key()
                .to_public_key_pem(p256::pkcs8::LineEnding::LF)
                .unwrap()
        })
        .collect();
    TestApp::with_settings(engine, |s| {
        s.webhooks.background = false;
        // The test receiver listens on loopback.
        s.webhooks.allow_private = true;
        s.leak_report_floor = Duration::ZERO;
        s.leak_report_keys =
            store::keys::leak_signature::ReportKeys::from_pems(pems.iter().map(String::as_str))
                .unwrap();
    })
    .await
}

/// POSTs a report and returns (status, content type, the body's exact bytes).
async fn report(base: &str, body: &str, signature: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut req = http()
        .post(format!("{base}/v1/leaks"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(sig) = signature {
        req = req
            .header("Github-Public-Key-Identifier", "test-key")
            .header("Github-Public-Key-Signature", sig);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ty = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ty, res.bytes().await.unwrap().to_vec())
}

fn github_body(token: &str) -> String {
    json!([{ "token": token, "type": "latchkey_live_key", "url": FOUND_AT, "source": "commit" }])
        .to_string()
}

fn sign(key: &SigningKey, body: &str) -> String {
    let sig: Signature = key.sign(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
}

#[tokio::test]
async fn a_reported_key_is_refused_on_its_next_call_and_junk_gets_the_same_answer() {
    for engine in engines() {
        let app = app(&engine, &[]).await;
        let base = app.serve().await;
        let rx = Receiver::start().await;
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "webhooks/create",
                json!({ "url": rx.url, "description": "", "events": ["api_key.leaked", "api_key.revoked"] }),
                Some(&owner),
            )
            .await;
        rx.set_secret(r.json()["secret"].as_str().unwrap());
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        // Cached by the verifier: the report must still hold on the very next call.
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200
        );

        let real = report(&base, &github_body(&key.secret), None).await;
        assert_eq!(real.0, 200);
        let refused = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(refused.status, 401, "{}: {:?}", app.engine, refused.body);
        assert_eq!(refused.code(), "key_revoked");

        // Junk, a well-formed key that was never issued, and the same real key again: the
        // same bytes, status and type as the real report.
        let never_issued = latchkey_domain::keys::generate(Mode::Live);
        for token in [
            "not a key",
            "lk_live_0000000000000000000000000000",
            never_issued.expose(),
            &key.secret,
        ] {
            assert_eq!(
                report(&base, &github_body(token), None).await,
                real,
                "{token}"
            );
        }

        let view = store::keys::get(&app.state.db, app.tenant_id("acme").await, &key.id)
            .await
            .unwrap();
        assert_eq!(view.status, latchkey_domain::views::KeyStatus::Revoked);
        assert_eq!(view.leak_url.as_deref(), Some(FOUND_AT));
        assert!(view.leaked_at.is_some());
        assert_eq!(
            view.revoke_reason.as_deref(),
            Some(format!("Reported leaked at {FOUND_AT}").as_str())
        );
        let leaked = app
            .scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'api_key.leaked'")
            .await;
        assert_eq!(
            leaked, 1,
            "a repeat report of a stopped key is not announced again"
        );

        while app.state.webhooks.deliver_due().await.unwrap() > 0 {}
        let got = rx.got();
        let mut kinds: Vec<&str> = got.iter().map(|g| g.kind()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["api_key.leaked", "api_key.revoked"]);
        let leak = got.iter().find(|g| g.kind() == "api_key.leaked").unwrap();
        assert!(leak.verified);
        assert_eq!(leak.body["data"]["details"]["url"], FOUND_AT);
        assert_eq!(leak.body["data"]["details"]["action"], "revoked");
        assert_eq!(leak.body["data"]["key"]["id"], key.id.as_str());
        assert!(!leak.body.to_string().contains(&key.secret));

        // The key's page says so, in red.
        let page = app.get(&format!("/keys/{}", key.id), Some(&owner)).await;
        assert!(
            page.body.contains("data-testid=\"leak-banner\""),
            "{}",
            app.engine
        );
        assert!(page.body.contains(FOUND_AT));
        app.close().await;
    }
}

#[tokio::test]
async fn the_disable_policy_switches_a_leaked_key_off_instead() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let tenant = app.tenant_id("acme").await;
        store::webhooks::safety::set(
            &app.state.db,
            tenant,
            &Actor::operator(),
            KeySafety {
                leak_policy: LeakPolicy::Disable,
                unused_days: 30,
            },
        )
        .await
        .unwrap();
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200
        );
        let plain = json!([{ "token": key.secret }]).to_string();
        assert_eq!(report(&base, &plain, None).await.0, 200);
        let refused = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(refused.code(), "key_disabled", "{:?}", refused.body);
        let view = store::keys::get(&app.state.db, tenant, &key.id)
            .await
            .unwrap();
        assert_eq!(view.status, latchkey_domain::views::KeyStatus::Disabled);
        assert!(view.leaked_at.is_some());
        assert_eq!(view.leak_url, None, "no address was reported");
        app
    })
    .await;
}

#[tokio::test]
async fn a_signed_report_must_verify_when_a_key_is_configured() {
    let github = SigningKey::random(&mut rand::rngs::OsRng);
    let impostor = SigningKey::random(&mut rand::rngs::OsRng);
    for engine in engines() {
        let app = app(&engine, &[&github]).await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let body = github_body(&key.secret);

        for bad in [sign(&impostor, &body), "bm90IGEgc2lnbmF0dXJl".to_owned()] {
            let (status, _, bytes) = report(&base, &body, Some(&bad)).await;
            assert_eq!(status, 401, "{}", String::from_utf8_lossy(&bytes));
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(answer["error"]["code"], "invalid_signature");
        }
        // A signature over another body does not carry over either.
        let other = sign(&github, &github_body("lk_live_other"));
        assert_eq!(report(&base, &body, Some(&other)).await.0, 401);
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200,
            "a refused report changes nothing"
        );

        assert_eq!(
            report(&base, &body, Some(&sign(&github, &body))).await.0,
            200
        );
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            401
        );
        let actor = app
            .scalar_text("SELECT actor FROM audit_events WHERE action = 'api_key.leaked'")
            .await;
        assert_eq!(actor, "leak_report:github");
        app.close().await;
    }
}

#[tokio::test]
async fn a_field_longer_than_the_document_allows_is_refused_and_nothing_is_acted_on() {
    for engine in engines() {
        let app = app(&engine, &[]).await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["*"], Mode::Live, "").await;
        let long = format!("https://github.com/acme/app/{}", "a".repeat(2_000));
        for (field, body) in [
            ("url", json!([{ "token": key.secret, "url": long }])),
            (
                "source",
                json!([{ "token": key.secret, "source": "s".repeat(201) }]),
            ),
        ] {
            let (status, _, bytes) = report(&base, &body.to_string(), None).await;
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(status, 422, "{field}: {answer}");
            assert_eq!(answer["error"]["fields"][0]["field"], field);
        }
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(r.status, 200, "the key was not acted on: {:?}", r.body);
    }
}

#[tokio::test]
async fn reports_are_bounded() {
    for engine in engines() {
        let app = app(&engine, &[]).await;
        let base = app.serve().await;
        let many: Vec<serde_json::Value> = (0..101)
            .map(|i| json!({ "token": format!("t{i}") }))
            .collect();
        let (status, _, _) = report(&base, &serde_json::Value::from(many).to_string(), None).await;
        assert_eq!(status, 400);
        let (status, _, _) = report(&base, "{\"token\": \"x\"}", None).await;
        assert_eq!(status, 400, "not an array");
        // Bodies over 64 KiB are refused (413) by the server's one body limit (abuse.rs).
        // One address gets 1,200 tokens a minute, each report spending one per token it names
        // (leaks_flood.rs has the rest of the bounds).
        let junk = serde_json::Value::from(
            (0..100)
                .map(|i| json!({ "token": format!("x{i}") }))
                .collect::<Vec<_>>(),
        )
        .to_string();
        let mut accepted = 0;
        let refused = loop {
            let (status, _, body) = report(&base, &junk, None).await;
            if status != 200 || accepted > 40 {
                break (status, body);
            }
            accepted += 1;
        };
        assert_eq!(refused.0, 429, "{}", String::from_utf8_lossy(&refused.1));
        // The two bad bodies above spent 101 and 1 (budgets refill while the test runs).
        let full = store::keys::leak::TOKENS_PER_MINUTE as usize / 100;
        assert!((full - 2..=full).contains(&accepted), "{accepted}");
        app.close().await;
    }
}

#[tokio::test]
async fn reports_racing_each_other_announce_a_leak_once() {
    on_every_engine(|app| async move {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let report = [store::keys::leak::LeakReport {
            token: key.secret.clone(),
            url: FOUND_AT.into(),
            source: "commit".into(),
        }];
        let actor = Actor::named("leak_report");
        let run = || store::keys::leak::report(&app.state.db, &app.state.verifier, &actor, &report);
        let (a, b, c) = tokio::join!(run(), run(), run());
        let stopped = [a, b, c]
            .into_iter()
            .map(|r| r.unwrap().len())
            .sum::<usize>();
        assert_eq!(stopped, 1, "{}", app.engine);
        let leaked = app
            .scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'api_key.leaked'")
            .await;
        assert_eq!(leaked, 1, "{}", app.engine);
        app
    })
    .await;
}

#[tokio::test]
async fn a_key_revokes_itself() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        // No scope needed: holding the key is enough.
        let key = app.make_key("acme", &["audit:read"], Mode::Test, "").await;
        let r = api(&base, "POST", "/v1/keys/self/revoke", &key.secret, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["id"], key.id.as_str());
        assert_eq!(r.body["status"], "revoked");
        let again = api(&base, "POST", "/v1/keys/self/revoke", &key.secret, None).await;
        assert_eq!(again.status, 401);
        assert_eq!(get_with_key(&base, "/v1/whoami", Some(&key.secret)).await.code(), "key_revoked");
        let actor = app
            .scalar_text(&format!(
                "SELECT actor FROM audit_events WHERE action = 'api_key.revoked' AND target_id = '{}'",
                key.id
            ))
            .await;
        assert_eq!(actor, format!("api_key:{}", key.id));
        app
    })
    .await;
}

#[tokio::test]
async fn a_failing_storage_does_not_show_in_the_answer() {
    for engine in engines() {
        let app = app(&engine, &[]).await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let junk = report(&base, &github_body("not a key"), None).await;
        // Storage goes away: only a real key's report touches it.
        app.state.db.pool.close().await;
        let real = report(&base, &github_body(&key.secret), None).await;
        assert_eq!(real, junk, "{}", app.engine);
        app.close().await;
    }
}

#[test]
fn tokens_and_signing_secrets_never_show_in_debug_output() {
    let token = "lk_live_thisisthesecretpartofthekey00000";
    let report = store::keys::leak::LeakReport {
        token: token.into(),
        url: FOUND_AT.into(),
        source: "commit".into(),
    };
    let reported: server::v1::leaks::ReportedToken =
        serde_json::from_value(json!({ "token": token, "url": FOUND_AT })).unwrap();
    let shown = app::webhooks::api::EndpointSecret {
        endpoint: latchkey_domain::webhooks::EndpointView {
            id: "whe_x".into(),
            url: "https://example.com".into(),
            description: String::new(),
            events: vec![],
            created_at: 0,
            created_by: String::new(),
            previous_secret_until: None,
            attempts: vec![],
        },
        secret: "whsec_c2VjcmV0".into(),
    };
    for debug in [format!("{report:?}"), format!("{reported:?}")] {
        assert!(!debug.contains("thisisthesecret"), "{debug}");
        assert!(debug.contains(FOUND_AT));
    }
    assert!(!format!("{shown:?}").contains("whsec_"));
}
