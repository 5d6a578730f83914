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

use common::operator::{admin, token};
use common::*;
use latchkey_domain::keys::Mode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The host services' token: `serve` wants at least 32 bytes (longer than the one the
/// in-process operator tests use).
const SERVICE_TOKEN: &str = "svc-token-for-operator-replica-tests";

/// An app that declares `account=Bank account` and accepts [`SERVICE_TOKEN`].
async fn operator_app(engine: &Engine) -> TestApp {
    TestApp::with_settings(engine, |s| {
        use sha2::Digest as _;
        s.resource_types = vec!["account=Bank account".parse().unwrap()];
        s.service_token_sha256 = Some(sha2::Sha256::digest(SERVICE_TOKEN.as_bytes()).into());
    })
    .await
}

/// `POST /v1/verify` for `key` through `base`; the verdict body.
async fn verify(base: &str, key: &str) -> Value {
    let req = http()
        .post(format!("{base}/v1/verify"))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({ "key": key }));
    let r = read(req.send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{base}: {:?}", r.body);
    r.body
}

/// A server process of ours; killed when dropped.
struct Replica {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `latchkey serve` on `url` with the test apps' pepper, the operator tests' resource type and
/// service token; returns once `/readyz` answers (migrations ran, invalidations heard).
async fn start(url: &str, dir: &Path, name: &str) -> Replica {
    let port = free_port();
    let log = dir.join(format!("{name}.log"));
    let data = dir.join(format!("{name}-data"));
    let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url, "--data-dir", data.to_str().unwrap()])
        .args(["--pepper", &test_pepper_hex(), "--log-format", "json"])
        .args(["--log", "info,sqlx=warn"])
        .args(["--resource-type", "account=Bank account"])
        .args(["--service-token", SERVICE_TOKEN])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let replica = Replica {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http().get(format!("{}/readyz", replica.base)).send().await {
            if r.status() == 200 {
                return replica;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became ready:\n{}",
            std::fs::read_to_string(&replica.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
    let dir = std::env::temp_dir().join(format!(
        "latchkey-operator-replicas-{}",
        latchkey_domain::keys::random_base62(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    match engine {
        Engine::Postgres(_) => {
            let a = start(&app.url, &dir, "a").await;
            let b = start(&app.url, &dir, "b").await;
            let (a_base, b_base) = (a.base.clone(), b.base.clone());
            Two {
                app,
                a: a_base,
                b: b_base,
                _processes: vec![a, b],
            }
        }
        Engine::Sqlite => {
            let b = start(&app.url, &dir, "only").await;
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
        let now = outcome(&verify(base, key).await);
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
                    let v = verify(base, &key.secret).await;
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
