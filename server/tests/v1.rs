//! The key-authenticated API over real HTTP on loopback, on every engine: every answer code of
//! SPEC §5, writes taking effect on the very next request, no escalation, batched usage, the
//! OpenAPI document against the routes, and arbitrary Authorization headers.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::{self, Mode};
use serde_json::json;
use std::time::Duration;

const ALL: &[&str] = &["*"];

fn junk_keys(valid: &str) -> Vec<(String, &'static str)> {
    // A key that is well formed, has a right checksum, and exists nowhere.
    let random = keys::random_base62(32);
    let sum = keys::checksum(random.as_bytes());
    let unknown = format!("lk_live_{random}{}", std::str::from_utf8(&sum).unwrap());
    let mut bad_sum = valid.to_owned();
    let last = bad_sum.pop().unwrap();
    bad_sum.push(if last == 'a' { 'b' } else { 'a' });
    vec![
        ("lk_live_short".to_owned(), "malformed"),
        (format!("{valid}x"), "too long"),
        (valid.replacen("lk_", "sk_", 1), "wrong prefix"),
        (bad_sum, "bad checksum"),
        (unknown, "unknown"),
    ]
}

#[tokio::test]
async fn every_refusal_has_its_code_status_and_envelope() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let good = app.make_key("acme", ALL, Mode::Live, "").await;

        let ok = get_with_key(&base, "/v1/whoami", Some(&good.secret)).await;
        assert_eq!(ok.status, 200, "{:?}", ok.body);
        assert_eq!(ok.body["key"]["id"], good.id);
        assert_eq!(ok.body["tenant"]["slug"], "acme");
        assert_eq!(ok.body["tenant"]["plan"], "professional");
        assert!(ok.header("x-request-id").unwrap().starts_with("req_"));

        // Missing credentials.
        let r = get_with_key(&base, "/v1/whoami", None).await;
        assert_eq!((r.status, r.code()), (401, "invalid_api_key"));
        assert_eq!(
            r.body["error"]["request_id"].as_str(),
            r.header("x-request-id").as_deref()
        );
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));

        // Malformed, bad checksum, unknown: all alike.
        let mut messages = Vec::new();
        for (key, what) in junk_keys(&good.secret) {
            let r = get_with_key(&base, "/v1/whoami", Some(&key)).await;
            assert_eq!((r.status, r.code()), (401, "invalid_api_key"), "{what}");
            messages.push(r.body["error"]["message"].as_str().unwrap().to_owned());
        }
        messages.dedup();
        assert_eq!(messages.len(), 1, "refusals differ: {messages:?}");

        // Other schemes and Basic with a password are not credentials.
        for auth in [
            format!("Token {}", good.secret),
            format!("Bearer{}", good.secret),
        ] {
            let r = get_shaped(&base, "/v1/whoami", |r| r.header("authorization", auth)).await;
            assert_eq!(r.code(), "invalid_api_key");
        }
        let r = get_shaped(&base, "/v1/whoami", |r| {
            r.basic_auth(&good.secret, Some("password"))
        })
        .await;
        assert_eq!(r.code(), "invalid_api_key");
        // Basic with the key as user and an empty password works.
        let r = get_shaped(&base, "/v1/whoami", |r| {
            r.basic_auth(&good.secret, Some(""))
        })
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);

        // Missing scope names the scope.
        let narrow = app
            .make_key("acme", &["verifications:read"], Mode::Test, "")
            .await;
        let r = get_with_key(&base, "/v1/keys", Some(&narrow.secret)).await;
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        assert_eq!(r.body["error"]["required_scope"], "keys:read");
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keys:read"));
        // `keys:write` does not imply `keys:read`.
        let writer = app.make_key("acme", &["keys:write"], Mode::Test, "").await;
        let r = get_with_key(&base, "/v1/keys", Some(&writer.secret)).await;
        assert_eq!(r.code(), "insufficient_scope");

        // Unknown routes answer in the same envelope.
        let r = get_with_key(&base, "/v1/nope", Some(&good.secret)).await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        app
    })
    .await;
}

#[tokio::test]
async fn revoked_and_expired_keys_say_so_only_once_the_digest_matched() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let key = app.make_key("acme", ALL, Mode::Test, "").await;
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200
        );

        // Expired: its end has passed (set in storage, as time passing would).
        let expiring = app.make_key("acme", ALL, Mode::Test, "").await;
        sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE public_id = $2")
            .bind(store::db::now_ms() - 1)
            .bind(&expiring.id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let r = get_with_key(&base, "/v1/whoami", Some(&expiring.secret)).await;
        assert_eq!((r.status, r.code()), (401, "key_expired"));

        // Revoked through the UI's server function: the very next call is refused, although
        // the key sat in the cache a moment ago.
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "keys/revoke",
                json!({"id": key.id, "reason": "leaked"}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!((r.status, r.code()), (401, "key_revoked"));
        // A near-miss of the revoked key is just invalid: nothing is learned about it.
        let (mut near, _) = (key.secret.clone(), ());
        near.replace_range(20..21, if &near[20..21] == "A" { "B" } else { "A" });
        let r = get_with_key(&base, "/v1/whoami", Some(&near)).await;
        assert_eq!(r.code(), "invalid_api_key");
        app
    })
    .await;
}

#[tokio::test]
async fn allowlists_match_v4_v6_and_cidr_and_forwarding_only_from_trusted_proxies() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let base = app.serve().await;
        let office = app
            .make_key(
                "acme",
                ALL,
                Mode::Live,
                "203.0.113.0/24\n2001:db8:42::/48\n198.51.100.7",
            )
            .await;
        let call = |from: &'static str| {
            let base = base.clone();
            let secret = office.secret.clone();
            async move {
                get_shaped(&base, "/v1/whoami", |r| {
                    let r = r.bearer_auth(secret);
                    if from.is_empty() {
                        r
                    } else {
                        r.header("x-forwarded-for", from)
                    }
                })
                .await
            }
        };
        for (from, allowed) in [
            ("203.0.113.200", true),       // v4 in the /24
            ("203.0.114.1", false),        // v4 just outside
            ("198.51.100.7", true),        // a bare address
            ("198.51.100.8", false),       // its neighbour
            ("2001:db8:42:ffff::1", true), // v6 in the /48
            ("2001:db8:43::1", false),     // v6 outside
            ("", false),                   // the proxy itself, 127.0.0.1
            // The client is the right-most untrusted hop, not what it claims to be.
            ("203.0.113.5, 192.0.2.1", false),
        ] {
            let r = call(from).await;
            if allowed {
                assert_eq!(r.status, 200, "{from}: {:?}", r.body);
            } else {
                assert_eq!((r.status, r.code()), (403, "ip_not_allowed"), "{from}");
            }
        }
        app.close().await;
    }

    // Without trusted proxies, X-Forwarded-For is ignored: a spoofed header gets nowhere.
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let office = app
            .make_key("acme", ALL, Mode::Live, "203.0.113.0/24")
            .await;
        let local = app.make_key("acme", ALL, Mode::Live, "127.0.0.0/8").await;
        let r = get_shaped(&base, "/v1/whoami", |r| {
            r.bearer_auth(&office.secret)
                .header("x-forwarded-for", "203.0.113.9")
        })
        .await;
        assert_eq!(r.code(), "ip_not_allowed");
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&local.secret))
                .await
                .status,
            200
        );

        // An allowlist edit through the UI applies to the very next request.
        let owner = app.sign_in("owner@acme.test").await;
        let key = app
            .call_json("keys/get", json!({"id": local.id}), Some(&owner))
            .await
            .json();
        let r = app
            .call_json(
                "keys/update",
                json!({"edit": {"id": local.id, "name": key["key"]["name"], "description": "",
                    "allowlist": "10.0.0.0/8"}}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let r = get_with_key(&base, "/v1/whoami", Some(&local.secret)).await;
        assert_eq!(r.code(), "ip_not_allowed");
        app
    })
    .await;
}

#[tokio::test]
async fn a_starter_tenant_s_keys_are_suspended_and_restored_by_an_upgrade() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let key = app.make_key("acme", ALL, Mode::Live, "").await;
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200
        );
        let owner = app.sign_in("owner@acme.test").await;
        let plan = |p: &'static str| {
            let owner = owner.clone();
            let app = &app;
            async move {
                let r = app.call("change_plan", &[("plan", p)], Some(&owner)).await;
                assert_eq!(r.status.as_u16(), 200, "{}", r.body);
            }
        };
        plan("starter").await;
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!((r.status, r.code()), (403, "plan_required"));
        // Nothing was deleted; an upgrade restores the key at once.
        plan("enterprise").await;
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["tenant"]["plan"], "enterprise");
        assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("6000"));
        app
    })
    .await;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_headers_then_recovers() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.limits.professional_rpm = 60;
        })
        .await;
        let base = app.serve().await;
        let key = app.make_key("acme", ALL, Mode::Test, "").await;
        let first = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(first.status, 200);
        assert_eq!(first.header("x-ratelimit-limit").as_deref(), Some("60"));
        assert_eq!(first.header("x-ratelimit-remaining").as_deref(), Some("59"));
        assert_eq!(
            first.header("ratelimit-policy").as_deref(),
            Some("\"per-key\";q=60;w=60")
        );
        assert!(first
            .header("ratelimit")
            .unwrap()
            .starts_with("\"per-key\";r=59;t="));

        let mut ok = 1;
        let limited = loop {
            let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
            if r.status == 429 {
                break r;
            }
            assert_eq!(r.status, 200);
            ok += 1;
            assert!(ok <= 90, "never limited");
        };
        // 60 a minute, refilling one a second: the burst is about 60.
        assert!((60..=70).contains(&ok), "{ok} before the limit");
        assert_eq!(limited.code(), "rate_limited");
        let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry), "Retry-After {retry}");
        assert_eq!(
            limited.header("x-ratelimit-remaining").as_deref(),
            Some("0")
        );
        assert!(limited.header("ratelimit").unwrap().contains("r=0"));

        // Another key of the same tenant has its own budget.
        let other = app.make_key("acme", ALL, Mode::Test, "").await;
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&other.secret))
                .await
                .status,
            200
        );
        tokio::time::sleep(Duration::from_secs(retry)).await;
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(r.status, 200, "after waiting Retry-After: {:?}", r.body);

        // Billing shows the limit that is enforced, not only the plan table's default.
        let owner = app.sign_in("owner@acme.test").await;
        let billing = app.call("billing", &[], Some(&owner)).await.json();
        let pro = billing["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["plan"] == "professional")
            .unwrap()
            .clone();
        assert_eq!(pro["limits"]["requests_per_minute"], 60);
        app.close().await;
    }
}

#[tokio::test]
async fn keys_through_the_api_never_escalate() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let writer = app
            .make_key("acme", &["keys:write", "keys:read"], Mode::Test, "")
            .await;
        let before = app.scalar_i64("SELECT COUNT(*) FROM api_keys").await;
        let post = |body: serde_json::Value| {
            let base = base.clone();
            let secret = writer.secret.clone();
            async move {
                read(
                    http()
                        .post(format!("{base}/v1/keys"))
                        .bearer_auth(secret)
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let r = post(json!({"name": "sneaky", "scopes": ["keys:read", "audit:read"]})).await;
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        assert_eq!(r.body["error"]["required_scope"], "audit:read");
        let r = post(json!({"name": "sneaky", "scopes": ["*"]})).await;
        assert_eq!(r.code(), "insufficient_scope");
        let r = post(json!({"name": "live", "mode": "live", "scopes": ["keys:read"]})).await;
        assert_eq!((r.status, r.code()), (403, "mode_not_allowed"));
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM api_keys").await,
            before,
            "a refused create wrote something"
        );

        // Within its rights it works: a test key (its own mode) with a subset of its scopes.
        let r = post(json!({"name": "Reader", "scopes": ["keys:read"], "allowlist": ["10.0.0.0/8"]}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["key"]["mode"], "test");
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(keys::parse(&secret).is_ok());
        let new_id = r.body["key"]["id"].as_str().unwrap().to_owned();
        let actor = app
            .scalar_text(&format!(
                "SELECT actor FROM audit_events WHERE action = 'api_key.created' AND target_id = '{new_id}'"
            ))
            .await;
        assert_eq!(actor, format!("api_key:{}", writer.id));
        // Validation is the UI's: per field, nothing written.
        let r = post(json!({"name": "", "scopes": ["nope:nope"], "allowlist": ["10.0.0.0/33"]}))
            .await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        assert!(r.body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "scopes"));
        app
    })
    .await;
}

#[tokio::test]
async fn keys_crud_and_audit_events_through_the_api() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", ALL, Mode::Live, "").await;
        let client = http();
        let send =
            |req: reqwest::RequestBuilder| async move { read(req.send().await.unwrap()).await };

        let r = send(
            client
                .post(format!("{base}/v1/keys"))
                .bearer_auth(&admin.secret)
                .json(
                    &json!({"name": "Billing sync", "mode": "live", "scopes": ["envelopes:read"]}),
                ),
        )
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["key"]["id"].as_str().unwrap().to_owned();
        let secret = r.body["secret"].as_str().unwrap().to_owned();

        // The secret is in the create answer only.
        let r = get_with_key(&base, &format!("/v1/keys/{id}"), Some(&admin.secret)).await;
        assert_eq!(r.body["name"], "Billing sync");
        assert!(!r.body.to_string().contains(&secret[8..]));

        let r = send(
            client
                .patch(format!("{base}/v1/keys/{id}"))
                .bearer_auth(&admin.secret)
                .json(&json!({"description": "nightly", "allowlist": ["192.0.2.0/24"]})),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["description"], "nightly");
        assert_eq!(r.body["allowlist"], json!(["192.0.2.0/24"]));
        assert_eq!(r.body["scopes"], json!(["envelopes:read"]));

        let list = get_with_key(&base, "/v1/keys?limit=1", Some(&admin.secret)).await;
        assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
        let cursor = list.body["next_cursor"].as_str().unwrap().to_owned();
        let next = get_with_key(
            &base,
            &format!("/v1/keys?limit=1&cursor={cursor}"),
            Some(&admin.secret),
        )
        .await;
        assert_ne!(next.body["data"][0]["id"], list.body["data"][0]["id"]);
        let bad = get_with_key(&base, "/v1/keys?limit=1000", Some(&admin.secret)).await;
        assert_eq!((bad.status, bad.code()), (422, "validation_failed"));

        let r = send(
            client
                .delete(format!("{base}/v1/keys/{id}?reason=rotated"))
                .bearer_auth(&admin.secret),
        )
        .await;
        assert_eq!(r.body["status"], "revoked");

        // Another tenant's key is not found, whatever the scopes.
        let starter_key = app.make_key("starter-studio", ALL, Mode::Live, "").await;
        let r = get_with_key(
            &base,
            &format!("/v1/keys/{}", starter_key.id),
            Some(&admin.secret),
        )
        .await;
        assert_eq!((r.status, r.code()), (404, "not_found"));

        let events = get_with_key(
            &base,
            &format!("/v1/audit-events?target_id={id}"),
            Some(&admin.secret),
        )
        .await;
        let actions: Vec<&str> = events.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            vec!["api_key.revoked", "api_key.updated", "api_key.created"]
        );
        assert_eq!(events.body["data"][0]["details"]["reason"], "rotated");
        let page = get_with_key(&base, "/v1/audit-events?limit=1", Some(&admin.secret)).await;
        assert!(page.body["next_cursor"].is_string());
        let none = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = get_with_key(&base, "/v1/audit-events", Some(&none.secret)).await;
        assert_eq!(r.body["error"]["required_scope"], "audit:read");
        app
    })
    .await;
}

#[tokio::test]
async fn usage_is_written_in_batches_after_the_flush() {
    for engine in engines() {
        // A long interval: nothing is written until the flush we ask for.
        let app = TestApp::with_settings(&engine, |s| {
            s.usage_flush_interval = Duration::from_secs(3600);
        })
        .await;
        let base = app.serve().await;
        let key = app.make_key("acme", ALL, Mode::Test, "").await;
        let narrow = app
            .make_key("acme", &["envelopes:read"], Mode::Test, "")
            .await;
        // More than one INSERT's worth of rows (100), all in one batch.
        for _ in 0..140 {
            assert_eq!(
                get_with_key(&base, "/v1/whoami", Some(&key.secret))
                    .await
                    .status,
                200
            );
        }
        assert_eq!(
            get_with_key(&base, "/v1/keys", Some(&narrow.secret))
                .await
                .status,
            403
        );
        // Junk never reaches the log: there is no key to log it against.
        get_with_key(&base, "/v1/whoami", Some("lk_live_nope")).await;
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM request_logs").await,
            0,
            "a request wrote synchronously"
        );
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT COUNT(*) FROM api_keys WHERE public_id = '{}' AND last_used_at IS NOT NULL",
                key.id
            ))
            .await,
            0
        );
        let stats = &app.state.verifier.usage.stats;
        let flushes_before = stats.flushes.load(std::sync::atomic::Ordering::Relaxed);
        app.state.verifier.usage.flush().await;
        let flushes = stats.flushes.load(std::sync::atomic::Ordering::Relaxed) - flushes_before;
        assert_eq!(flushes, 1, "141 requests took {flushes} writes");
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM request_logs").await,
            141
        );
        assert_eq!(
            app.scalar_i64(
                "SELECT COUNT(*) FROM request_logs WHERE status = 403 AND path = '/v1/keys'"
            )
            .await,
            1
        );
        assert_eq!(
            app.scalar_text("SELECT client_ip FROM request_logs LIMIT 1")
                .await,
            "127.0.0.1"
        );
        // Last used moved, and the list (one query) shows it.
        let owner = app.sign_in("owner@acme.test").await;
        let list = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": false, "before": null}),
                Some(&owner),
            )
            .await
            .json();
        let row = list["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == key.id.as_str())
            .unwrap()
            .clone();
        assert!(row["last_used_at"].as_i64().unwrap() > 0);

        // The request log server function: members read it, paged; viewers may not.
        let member = app.sign_in("member@acme.test").await;
        let page = app
            .call_json(
                "keys/requests",
                json!({"id": key.id, "before": null}),
                Some(&member),
            )
            .await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        let page = page.json();
        assert_eq!(page["rows"].as_array().unwrap().len(), 25);
        assert_eq!(page["rows"][0]["method"], "GET");
        assert_eq!(page["rows"][0]["path"], "/v1/whoami");
        assert_eq!(page["rows"][0]["status"], 200);
        // Paging walks every row of this key once: 140 calls to /v1/whoami.
        let mut seen = page["rows"].as_array().unwrap().len();
        let mut before = page["next_before"].clone();
        while !before.is_null() {
            let next = app
                .call_json(
                    "keys/requests",
                    json!({"id": key.id, "before": before}),
                    Some(&member),
                )
                .await
                .json();
            seen += next["rows"].as_array().unwrap().len();
            before = next["next_before"].clone();
        }
        assert_eq!(seen, 140);
        let viewer = app.sign_in("viewer@acme.test").await;
        let r = app
            .call_json(
                "keys/requests",
                json!({"id": key.id, "before": null}),
                Some(&viewer),
            )
            .await;
        assert_eq!(r.status.as_u16(), 403);
        app.close().await;
    }
}

#[tokio::test]
async fn usage_flushes_on_its_own_and_retention_prunes_old_rows() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.usage_flush_interval = Duration::from_millis(100);
        })
        .await;
        let base = app.serve().await;
        let key = app.make_key("acme", ALL, Mode::Test, "").await;
        for _ in 0..5 {
            get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        }
        let mut rows = 0;
        for _ in 0..50 {
            rows = app.scalar_i64("SELECT COUNT(*) FROM request_logs").await;
            if rows == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(rows, 5, "the timer never flushed");

        let now = store::db::now_ms();
        sqlx::query("UPDATE request_logs SET created_at = $1 WHERE id IN (SELECT id FROM request_logs ORDER BY id LIMIT 2)")
            .bind(now - 40 * 86_400_000)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let pruned = store::verify::usage::prune(&app.state.db, now - 30 * 86_400_000)
            .await
            .unwrap();
        assert_eq!(pruned, 2);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM request_logs").await, 3);
        app.close().await;
    }
}

#[tokio::test]
async fn the_verify_endpoint_answers_for_host_services() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            use sha2::Digest as _;
            s.service_token_sha256 = Some(sha2::Sha256::digest(b"svc-token-123").into());
        })
        .await;
        let base = app.serve().await;
        let key = app
            .make_key("acme", &["envelopes:read"], Mode::Live, "192.0.2.0/24")
            .await;
        let verify = |token: Option<&'static str>, body: serde_json::Value| {
            let base = base.clone();
            async move {
                let mut req = http().post(format!("{base}/v1/verify")).json(&body);
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                read(req.send().await.unwrap()).await
            }
        };
        let body = json!({"key": key.secret, "scope": "envelopes:read", "ip": "192.0.2.10"});
        let r = verify(None, body.clone()).await;
        assert_eq!((r.status, r.code()), (401, "invalid_service_token"));
        let r = verify(Some("wrong"), body.clone()).await;
        assert_eq!(r.code(), "invalid_service_token");

        let r = verify(Some("svc-token-123"), body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["valid"], true);
        assert_eq!(r.body["key"]["id"], key.id);
        assert_eq!(r.body["key"]["mode"], "live");
        assert_eq!(r.body["key"]["scopes"], json!(["envelopes:read"]));
        assert_eq!(r.body["tenant"]["slug"], "acme");

        for (body, code) in [
            (
                json!({"key": key.secret, "scope": "envelopes:write", "ip": "192.0.2.10"}),
                "insufficient_scope",
            ),
            (
                json!({"key": key.secret, "ip": "198.51.100.1"}),
                "ip_not_allowed",
            ),
            // The key has an allowlist, and no address was given: refused, not waved through.
            (json!({"key": key.secret}), "ip_not_allowed"),
            (json!({"key": "lk_live_junk"}), "invalid_api_key"),
        ] {
            let r = verify(Some("svc-token-123"), body.clone()).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.body["valid"], false, "{body}");
            assert_eq!(r.body["code"], code, "{body}");
        }
        let r = verify(
            Some("svc-token-123"),
            json!({"key": key.secret, "ip": "nope"}),
        )
        .await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        app.close().await;
    }
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let doc = read(
            http()
                .get(format!("{base}/v1/openapi.json"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(doc.status, 200);
        assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
        let mut documented = Vec::new();
        for (path, item) in doc.body["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push(format!("{} {path}", method.to_uppercase()));
            }
        }
        documented.sort();
        let mut expected = vec![
            "GET /v1/whoami",
            "GET /v1/keys",
            "POST /v1/keys",
            "GET /v1/keys/{id}",
            "PATCH /v1/keys/{id}",
            "DELETE /v1/keys/{id}",
            "POST /v1/keys/{id}/roll",
            "GET /v1/audit-events",
            "POST /v1/verify",
            "GET /v1/changes",
            "POST /v1/usage",
            "GET /v1/authz",
            "POST /v1/keys/self/revoke",
            "POST /v1/leaks",
            "GET /v1/admin/tenants",
            "PUT /v1/admin/tenants/{external_id}",
            "GET /v1/admin/tenants/{external_id}",
            "DELETE /v1/admin/tenants/{external_id}",
            "GET /v1/admin/tenants/{external_id}/members",
            "PUT /v1/admin/tenants/{external_id}/members/{external_user_id}",
            "DELETE /v1/admin/tenants/{external_id}/members/{external_user_id}",
            "GET /v1/admin/tenants/{external_id}/requirements",
            "PUT /v1/admin/tenants/{external_id}/requirements",
            "GET /v1/admin/tenants/{external_id}/resources",
            "PUT /v1/admin/tenants/{external_id}/resources/{type}/{id}",
            "DELETE /v1/admin/tenants/{external_id}/resources/{type}/{id}",
            "GET /v1/admin/tenants/{external_id}/audit-events",
            "POST /v1/admin/portal-links",
            "POST /v1/admin/portal-sessions/expire",
        ];
        expected.sort();
        assert_eq!(documented, expected);
        // Every documented operation is routed: unauthenticated, it is refused, not missing.
        for op in documented.iter().filter(|op| *op != "POST /v1/leaks") {
            let (method, path) = op.split_once(' ').unwrap();
            let path = path
                .replace("{external_id}", "ext")
                .replace("{external_user_id}", "u")
                .replace("{type}", "account");
            let url = format!("{base}{}", path.replace("{id}", "key_x"));
            let req = http().request(method.parse().unwrap(), url);
            let req = if method == "POST" || method == "PATCH" || method == "PUT" {
                req.json(&json!({}))
            } else {
                req
            };
            let r = read(req.send().await.unwrap()).await;
            assert_eq!(r.status, 401, "{op}: {:?}", r.body);
            assert!(
                r.code() == "invalid_api_key"
                    || r.code() == "invalid_service_token"
                    || r.code() == "invalid_operator_token",
                "{op}"
            );
        }
        // And a route that is not documented does not exist.
        let r = get_with_key(&base, "/v1/keys/key_x/restore", None).await;
        assert_eq!(r.status, 404);
        // Both security schemes are declared.
        assert!(doc.body["components"]["securitySchemes"]["api_key"].is_object());
        assert!(doc.body["components"]["securitySchemes"]["service_token"].is_object());
        assert!(doc.body["components"]["securitySchemes"]["operator_token"].is_object());
        app
    })
    .await;
}
