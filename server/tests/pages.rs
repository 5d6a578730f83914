//! What issue 14's pages read, on every engine: the hourly counters behind the usage charts
//! (every request counted, logged or not), the indexed name search (the same rows as a plain
//! scan), and the trigger-kept active-key count (the same number as counting).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::Mode;
use serde_json::json;
use std::time::Duration;

async fn get(app: &TestApp, path: &str, secret: &str) -> u16 {
    app.send(
        axum::http::Request::get(path)
            .header("authorization", format!("Bearer {secret}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .status
    .as_u16()
}

#[tokio::test]
async fn hourly_counters_after_a_burst_equal_the_requests_made() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let other = app.make_key("acme", &["*"], Mode::Live, "").await;
        for _ in 0..40 {
            assert_eq!(get(&app, "/v1/whoami", &key.secret).await, 200);
        }
        for _ in 0..7 {
            assert_eq!(get(&app, "/v1/audit-events", &key.secret).await, 403);
        }
        assert_eq!(get(&app, "/v1/whoami", &other.secret).await, 200);
        // Revoked, then 150 more calls: past the per-key log budget (60 a minute), so most are
        // never logged one by one; the counters still count every one.
        let tenant = app.tenant_id("acme").await;
        store::keys::revoke(
            &app.state.db,
            tenant,
            &store::audit::Actor::operator(),
            &key.id,
            "test",
        )
        .await
        .unwrap();
        app.state.verifier.forget_key(tenant, &key.id).await;
        for _ in 0..150 {
            assert_eq!(get(&app, "/v1/whoami", &key.secret).await, 401);
        }
        app.state.verifier.usage.flush().await;
        let logged = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM request_logs r JOIN api_keys k ON k.id = r.key_id \
                 WHERE k.public_id = '{}' AND r.method <> 'REFUSED'",
                key.id
            ))
            .await;
        assert!(
            logged < 40 + 7 + 150,
            "{logged} rows: the test must pass the log budget"
        );

        // The detail page's numbers, through its server function.
        let r = app
            .call_json("keys/get", json!({ "id": key.id }), Some(&owner))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let usage = &r.json()["usage"];
        let hourly = usage["hourly"].as_array().unwrap();
        assert_eq!(hourly.len(), 24);
        let sum = |field: &str| -> u64 {
            hourly
                .iter()
                .map(|b| b[field].as_u64().unwrap())
                .sum::<u64>()
        };
        assert_eq!(sum("succeeded"), 40);
        assert_eq!(sum("rate_limited"), 0);
        let mut refused: std::collections::BTreeMap<u64, u64> = Default::default();
        for b in hourly {
            for pair in b["refused"].as_array().unwrap() {
                *refused.entry(pair[0].as_u64().unwrap()).or_default() += pair[1].as_u64().unwrap();
            }
        }
        assert_eq!(refused, [(401, 150), (403, 7)].into_iter().collect());
        let daily: u64 = usage["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                b["succeeded"].as_u64().unwrap()
                    + b["rate_limited"].as_u64().unwrap()
                    + b["refused"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p[1].as_u64().unwrap())
                        .sum::<u64>()
            })
            .sum();
        assert_eq!(daily, 197);

        // The list's "last 24 h" count, for both keys.
        let r = app
            .call_json(
                "keys/list",
                json!({ "search": "", "include_revoked": true, "before": null }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let counts = &r.json()["requests_24h"];
        assert_eq!(counts[&key.id], 197);
        assert_eq!(counts[&other.id], 1);

        // A day later the hourly chart has moved on; the daily one still holds them.
        app.state.db.clock.advance(Duration::from_secs(25 * 3600));
        let u = store::keys::usage(&app.state.db, tenant, &key.id)
            .await
            .unwrap();
        assert_eq!(u.last_24h(), 0);
        let days: u64 = u.daily.iter().map(|b| b.total()).sum();
        assert_eq!(days, 197);
        // Another tenant's key is not found.
        let other_tenant = app.tenant_id("starter-studio").await;
        assert!(store::keys::usage(&app.state.db, other_tenant, &key.id)
            .await
            .is_err());
        // Retention prunes the counters with the request log.
        store::verify::usage::prune(&app.state.db, store::db::now_ms() + 3_600_000)
            .await
            .unwrap();
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM key_usage_hourly")
                .await,
            0
        );
        app
    })
    .await;
}

/// Names with upper case, digits, LIKE's wildcards, a backslash, quotes and non-ASCII text.
fn name_of(i: usize) -> String {
    let words = [
        "Payments",
        "billing",
        "CI runner",
        "100%_done",
        "back\\slash",
        "Zürich",
        "\"quoted\"",
    ];
    format!("{} {:04}", words[i % words.len()], i)
}

#[tokio::test]
async fn search_at_1000_keys_returns_the_same_rows_as_a_plain_scan() {
    on_every_engine(|app| async move {
        let tenant = app.tenant_id("acme").await;
        let pepper = &app.state.pepper;
        let mut tx = app.state.db.pool.begin().await.unwrap();
        for i in 0..1000 {
            let secret = latchkey_domain::keys::generate(Mode::Test);
            sqlx::query(
                "INSERT INTO api_keys (public_id, tenant_id, name, description, mode, scopes, \
                 allowlist, digest, hash_version, masked, status, created_at, created_by_name) \
                 VALUES ($1, $2, $3, '', 'test', 'keys:read', '', $4, 1, $5, $6, $7, 'test')",
            )
            .bind(format!("key_search_{i}"))
            .bind(tenant)
            .bind(name_of(i))
            .bind(latchkey_domain::keys::Digest::of(pepper, secret.expose()).to_hex())
            .bind(secret.masked())
            .bind(if i % 5 == 0 { "revoked" } else { "active" })
            .bind(store::db::now_ms())
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        // One renamed afterwards: the index follows the name.
        sqlx::query(
            "UPDATE api_keys SET name = 'Renamed payments' WHERE public_id = 'key_search_7'",
        )
        .execute(&app.state.db.pool)
        .await
        .unwrap();

        let all: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT public_id, name, status FROM api_keys WHERE tenant_id = $1 ORDER BY id DESC",
        )
        .bind(tenant)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
        for search in [
            "pay",
            "PAYMENTS",
            "ay",
            "0042",
            "100%",
            "%_",
            "_",
            "h\\s",
            "zür",
            "\"quo",
            "runner 01",
            "renamed",
            "nothing like it",
            "4",
        ] {
            for include_revoked in [false, true] {
                let mut got = Vec::new();
                let mut before = None;
                loop {
                    let q = store::keys::KeyQuery {
                        search,
                        include_revoked,
                        before,
                        limit: 50,
                        ..Default::default()
                    };
                    let (page, next) = store::keys::list(&app.state.db, tenant, &q).await.unwrap();
                    got.extend(page.into_iter().map(|k| k.id));
                    match next {
                        Some(n) => before = Some(n),
                        None => break,
                    }
                }
                // The plain scan: a case-insensitive (ASCII) substring, newest first.
                let needle = search.to_ascii_lowercase();
                let want: Vec<String> = all
                    .iter()
                    .filter(|(_, name, status)| {
                        (include_revoked || status == "active")
                            && name.to_ascii_lowercase().contains(&needle)
                    })
                    .map(|(id, _, _)| id.clone())
                    .collect();
                assert_eq!(got, want, "{} search {search:?}", app.engine);
            }
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_kept_active_count_equals_counting_the_keys() {
    on_every_engine(|app| async move {
        let tenant = app.tenant_id("acme").await;
        let db = &app.state.db;
        let scan = || async {
            app.scalar_i64(&format!(
                "SELECT COUNT(*) FROM api_keys WHERE tenant_id = {tenant} AND status = 'active' \
                 AND rolled_to IS NULL AND (expires_at IS NULL OR expires_at > {})",
                db.clock.now_ms()
            ))
            .await
        };
        assert_eq!(store::keys::count_active(db, tenant).await.unwrap(), scan().await);
        let a = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let b = app.make_key("acme", &["keys:read"], Mode::Test, "").await;
        let before = store::keys::count_active(db, tenant).await.unwrap();
        assert_eq!(before, scan().await);
        // Revoking, rolling and disabling.
        store::keys::revoke(db, tenant, &store::audit::Actor::operator(), &a.id, "x")
            .await
            .unwrap();
        assert_eq!(store::keys::count_active(db, tenant).await.unwrap(), before - 1);
        store::keys::roll(
            db,
            &app.state.pepper,
            tenant,
            latchkey_domain::Plan::Professional,
            &store::audit::Actor::operator(),
            &b.id,
            latchkey_domain::views::Overlap::Day,
        )
        .await
        .unwrap();
        assert_eq!(store::keys::count_active(db, tenant).await.unwrap(), scan().await);
        // Expiring keys drop out as the clock passes them, with no write at all.
        let expiring = app
            .make_key_from(
                "acme",
                latchkey_domain::views::NewKey {
                    name: "soon".into(),
                    description: String::new(),
                    mode: Some(Mode::Test),
                    scopes: vec!["keys:read".into()],
                    allowlist: String::new(),
                    expires_on: latchkey_domain::time::format_date(db.clock.now_ms() + 86_400_000),
                    resources: Vec::new(),
                },
            )
            .await;
        let with = store::keys::count_active(db, tenant).await.unwrap();
        assert_eq!(with, scan().await);
        app.state.db.clock.advance(Duration::from_secs(3 * 86_400));
        let after = store::keys::count_active(db, tenant).await.unwrap();
        assert_eq!(after, scan().await);
        assert!(after < with, "{after} < {with} once {} expired", expiring.id);
        // Another tenant's count is its own.
        let other_tenant = app.tenant_id("starter-studio").await;
        let theirs = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM api_keys WHERE tenant_id = {other_tenant} AND status = 'active' AND rolled_to IS NULL"
            ))
            .await;
        assert_eq!(store::keys::count_active(db, other_tenant).await.unwrap(), theirs);
        app
    })
    .await;
}

#[tokio::test]
async fn requests_a_full_queue_drops_are_still_counted() {
    use store::verify::usage::{Usage, UsageConfig, UsageEvent};
    on_every_engine(|app| async move {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let tenant = app.tenant_id("acme").await;
        let row: i64 = app
            .scalar_i64(&format!(
                "SELECT id FROM api_keys WHERE public_id = '{}'",
                key.id
            ))
            .await;
        let usage = Usage::start(
            app.state.db.clone(),
            UsageConfig {
                queue: 4,
                ..UsageConfig::default()
            },
        );
        let now = app.state.db.clock.now_ms();
        // No await in this loop: the writer cannot drain, so most of these are dropped.
        for _ in 0..500 {
            usage.record(UsageEvent {
                tenant_id: tenant,
                key_row_id: row,
                at_ms: now,
                method: "GET".into(),
                path: "/v1/whoami".into(),
                status: 200,
                client_ip: None,
                latency_us: 1,
                request_id: "req".into(),
                refused: false,
            });
        }
        usage.flush().await;
        let dropped = usage
            .stats
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(dropped > 400, "{dropped} dropped");
        let u = store::keys::usage(&app.state.db, tenant, &key.id)
            .await
            .unwrap();
        assert_eq!(
            u.last_24h(),
            500,
            "every request counted, logged or dropped"
        );
        app
    })
    .await;
}
