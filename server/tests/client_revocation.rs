//! The client's promise, end to end with real server processes: a key revoked anywhere is
//! refused by a host verifying in process within 100 ms, every round of 50. Two PostgreSQL
//! replicas with the host on B and the revoke through A's `/v1` or the operator CLI; and one
//! SQLite server hearing the CLI through its change table (polled every 25 ms).
//!
//! The PostgreSQL tests run when `LATCHKEY_TEST_POSTGRES_URL` is set. The tests here take
//! turns (one lock): they measure latency, and the machine has two cores.
#![allow(clippy::unwrap_used)]

mod common;

use common::replica::*;
use common::*;
use latchkey_client::{Rejection, Verifier};
use latchkey_domain::keys::Mode;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const TOKEN: &str = "revocation-tests-service-token-0123456789";
const PROMISE: Duration = Duration::from_millis(100);
const ROUNDS: usize = 50;

static TURN: Mutex<()> = Mutex::const_new(());

fn postgres() -> Option<Engine> {
    match std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(Engine::Postgres(url)),
        _ => {
            eprintln!("SKIPPED: the two-replica client test needs LATCHKEY_TEST_POSTGRES_URL");
            None
        }
    }
}

async fn host_on(base: &str) -> Verifier {
    let v = Verifier::builder(base, TOKEN).build().unwrap();
    assert!(
        v.wait_connected(Duration::from_secs(10)).await,
        "the host's change stream never connected"
    );
    v
}

/// The key is allowed, and the second time from memory (no call to Latchkey).
async fn warm(v: &Verifier, key: &str) {
    v.verify(key, Some("keys:read"), None).await.unwrap();
    let remote = v.stats().remote_calls;
    v.verify(key, Some("keys:read"), None).await.unwrap();
    assert_eq!(
        v.stats().remote_calls,
        remote,
        "the second answer came from memory"
    );
}

/// Asks every half millisecond until the key is refused as revoked; panics past the promise.
async fn refused(v: &Verifier, key: &str, since: Instant) -> Duration {
    loop {
        match v.verify(key, Some("keys:read"), None).await {
            Ok(_) => {}
            Err(Rejection::Refused(r)) => {
                assert_eq!(r.code.as_str(), "key_revoked");
                return since.elapsed();
            }
            Err(e) => panic!("{e:?}"),
        }
        assert!(
            since.elapsed() < PROMISE,
            "the host still allowed a revoked key after {PROMISE:?}"
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// [`ROUNDS`] keys, each warmed in the host, revoked with `latchkey key revoke`, then timed
/// until the host refuses it (from the CLI's exit: its commit came before).
async fn cli_rounds(app: &TestApp, host: &Verifier) -> Vec<Duration> {
    let mut took = Vec::new();
    for _ in 0..ROUNDS {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        warm(host, &key.secret).await;
        let out = run_latchkey(&app.url, &["key", "revoke", &key.id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        took.push(refused(host, &key.secret, Instant::now()).await);
    }
    took
}

fn figures(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{what}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*samples.last().unwrap())
    );
}

#[tokio::test]
async fn a_revoke_through_replica_a_is_refused_by_a_host_on_replica_b_within_100_ms() {
    let Some(engine) = postgres() else { return };
    let _turn = TURN.lock().await;
    let app = TestApp::new(&engine).await;
    let dir = scratch("client-a-b");
    let flags = ["--service-token", TOKEN];
    let a = start(&app.url, &dir, "a", &flags).await;
    let b = start(&app.url, &dir, "b", &flags).await;
    let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
    let host = host_on(&b.base).await;

    let mut took = Vec::new();
    for _ in 0..ROUNDS {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        warm(&host, &key.secret).await;
        let r = api(
            &a.base,
            "DELETE",
            &format!("/v1/keys/{}", key.id),
            &admin.secret,
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        took.push(refused(&host, &key.secret, Instant::now()).await);
    }
    figures("revoke on A -> refused by the host on B", took);

    // The same through the operator CLI (another process, on the database directly).
    let took = cli_rounds(&app, &host).await;
    figures("CLI revoke -> refused by the host on B", took);
    assert_eq!(host.stats().resets, 1, "{:?}", host.stats());
    drop((a, b));
    app.close().await;
}

#[tokio::test]
async fn a_cli_revoke_on_sqlite_is_refused_by_a_host_within_100_ms() {
    let _turn = TURN.lock().await;
    let app = TestApp::new(&Engine::Sqlite).await;
    let dir = scratch("client-sqlite");
    let server = start(&app.url, &dir, "only", &["--service-token", TOKEN]).await;
    let host = host_on(&server.base).await;
    let took = cli_rounds(&app, &host).await;
    figures(
        "CLI revoke -> refused by the host on the SQLite server",
        took,
    );
    drop(server);
    app.close().await;
}
