//! The operator API's suspension (issue 24) on more than one server: a tenant suspended through
//! one instance is `tenant_suspended` on the other within a second, and reactivation is seen as
//! fast, although both had the key's verdict cached as valid (the cache lives 10 s, so this is
//! the push, not an expiry).
//!
//! PostgreSQL: two `latchkey serve` processes on one database, as in `replicas.rs` (runs when
//! `LATCHKEY_TEST_POSTGRES_URL` is set). SQLite: one process may serve a file, so the other
//! instance is the test's own router on the same file, and the process hears it within a poll.
#![allow(clippy::unwrap_used)]

mod common;

use common::operator::{admin, app as operator_app, token, verify, SERVICE_TOKEN};
use common::replica::*;
use common::*;
use latchkey_domain::keys::Mode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What every instance serves with: the operator tests' resource type and service token.
const OPERATOR_FLAGS: &[&str] = &[
    "--resource-type",
    "account=Bank account",
    "--service-token",
    SERVICE_TOKEN,
];

/// Two instances on one fresh database of `engine`: `a` is where the operator acts, `b` the
/// one that must hear it. The processes live as long as `_processes`.
struct Two {
    app: TestApp,
    a: String,
    b: String,
    _processes: Vec<Replica>,
}

async fn two(engine: &Engine) -> Two {
    let app = operator_app(engine).await;
    let dir = scratch("operator");
    match engine {
        Engine::Postgres(_) => {
            let a = start(&app.url, &dir, "a", OPERATOR_FLAGS).await;
            let b = start(&app.url, &dir, "b", OPERATOR_FLAGS).await;
            let (a_base, b_base) = (a.base.clone(), b.base.clone());
            Two {
                app,
                a: a_base,
                b: b_base,
                _processes: vec![a, b],
            }
        }
        Engine::Sqlite => {
            let b = start(&app.url, &dir, "only", OPERATOR_FLAGS).await;
            let a = app.serve().await;
            let b_base = b.base.clone();
            Two {
                app,
                a,
                b: b_base,
                _processes: vec![b],
            }
        }
    }
}

/// `PUT /v1/admin/tenants/{ext}` through `base` with `status`; a rate high enough that the
/// polling below never meets it.
async fn put_status(base: &str, op: &str, ext: &str, status: &str) -> HttpResp {
    let body = json!({
        "name": "Replicated SaaS tenant",
        "plan": "professional",
        "limits": {"rate_per_minute": 100000},
        "status": status,
    });
    let path = format!("/v1/admin/tenants/{ext}");
    admin(base, op, "PUT", &path, Some(body), None).await
}

/// `valid: true`, or the refusal's code.
fn outcome(v: &Value) -> String {
    if v["valid"] == json!(true) {
        "valid".to_owned()
    } else {
        v["code"].as_str().unwrap_or("").to_owned()
    }
}

/// Polls `base`'s `/v1/verify` every 10 ms until `key` comes out as `want` (`valid` or a code),
/// having been `was` until then; the time it took (panics after a second: the promise).
async fn becomes_within_a_second(
    base: &str,
    key: &str,
    was: &str,
    want: &str,
    since: Instant,
) -> Duration {
    loop {
        let now = outcome(&verify(base, key, None).await);
        if now == want {
            return since.elapsed();
        }
        assert_eq!(now, was, "{base}: neither the old nor the new verdict");
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "{base} still answers {was} a second after the change"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn p50_max(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{what}: n={} p50={:.1} ms max={:.1} ms",
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(*samples.last().unwrap())
    );
}

#[tokio::test]
async fn suspend_on_a_is_tenant_suspended_on_b_within_a_second_and_reactivating_restores_it() {
    for engine in engines() {
        let t = two(&engine).await;
        let op = token(&t.app, &[]).await;
        let ext = format!(
            "saas-{}",
            latchkey_domain::keys::random_base62(6).to_lowercase()
        );
        assert_eq!(put_status(&t.a, &op, &ext, "active").await.status, 201);
        let slug = t
            .app
            .scalar_text(&format!(
                "SELECT slug FROM tenants WHERE external_id = '{ext}'"
            ))
            .await;
        let key = t.app.make_key(&slug, &["keys:read"], Mode::Live, "").await;

        let (mut suspended, mut restored) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            // Warm: both hold the key's verdict as valid.
            for base in [&t.a, &t.b] {
                for _ in 0..2 {
                    let v = verify(base, &key.secret, None).await;
                    assert_eq!(v["valid"], true, "{base}: {v}");
                }
            }

            let r = put_status(&t.a, &op, &ext, "suspended").await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let since = Instant::now();
            suspended.push(
                becomes_within_a_second(&t.b, &key.secret, "valid", "tenant_suspended", since)
                    .await,
            );
            becomes_within_a_second(&t.a, &key.secret, "valid", "tenant_suspended", since).await;
            // The key's own calls are refused on B too, not only the verdict for host services.
            let who = get_with_key(&t.b, "/v1/whoami", Some(&key.secret)).await;
            assert_eq!((who.status, who.code()), (403, "tenant_suspended"));

            let r = put_status(&t.a, &op, &ext, "active").await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let since = Instant::now();
            restored.push(
                becomes_within_a_second(&t.b, &key.secret, "tenant_suspended", "valid", since)
                    .await,
            );
            becomes_within_a_second(&t.a, &key.secret, "tenant_suspended", "valid", since).await;
        }
        let name = match engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres(_) => "postgres",
        };
        p50_max(&format!("{name}: suspend on A -> refused on B"), suspended);
        p50_max(&format!("{name}: reactivate on A -> valid on B"), restored);
        drop(t._processes);
        t.app.close().await;
    }
}
