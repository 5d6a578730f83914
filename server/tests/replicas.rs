//! Several real `latchkey serve` processes on one database, as behind a load balancer: a change
//! made through one (or by another process) holds on every other within a second, by push, not
//! by a cache timeout; a replica that loses its listener verifies from storage until it hears
//! again; rate limits shared through Redis are one budget across replicas; SQLite serves one
//! server process and hears the CLI within a poll.
//!
//! The PostgreSQL tests run when `LATCHKEY_TEST_POSTGRES_URL` is set, the Redis one when
//! `redis-server` is installed too (the test runs its own); each says so when it skips.
#![allow(clippy::unwrap_used)]

mod common;

use common::replica::*;
use common::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::Plan;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn postgres() -> Option<Engine> {
    match std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(Engine::Postgres(url)),
        _ => {
            eprintln!("SKIPPED: multi-replica test needs LATCHKEY_TEST_POSTGRES_URL");
            None
        }
    }
}

async fn whoami(base: &str, key: &str) -> HttpResp {
    get_with_key(base, "/v1/whoami", Some(key)).await
}

/// Polls `base` every 10 ms until `key` is refused with `code`; the time it took (panics
/// after a second: the promise).
async fn refused_within_a_second(base: &str, key: &str, code: &str, since: Instant) -> Duration {
    loop {
        let r = whoami(base, key).await;
        if r.status != 200 {
            assert_eq!(r.code(), code, "{r:?}");
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "still accepted after a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// p50 / p99 / max of `samples`, in milliseconds, for the note.
fn figures(what: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let line = format!(
        "{what}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*samples.last().unwrap())
    );
    eprintln!("{line}");
    line
}

/// Two replicas, A and B, serving a fresh PostgreSQL test app's database (B with `b_extra`
/// flags too), and a `*` key to act through them with. `None` (said) without PostgreSQL.
struct Pair {
    app: TestApp,
    a: Replica,
    b: Replica,
    admin: TestKey,
}

async fn pair(label: &str, both: &[&str], b_extra: &[&str]) -> Option<Pair> {
    let engine = postgres()?;
    let app = TestApp::new(&engine).await;
    let dir = scratch(label);
    let a = start(&app.url, &dir, "a", both).await;
    let b_flags: Vec<&str> = both.iter().chain(b_extra).copied().collect();
    let b = start(&app.url, &dir, "b", &b_flags).await;
    let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
    Some(Pair { app, a, b, admin })
}

impl Pair {
    /// Revokes `id` through replica A's `/v1`.
    async fn revoke_on_a(&self, id: &str) {
        let path = format!("/v1/keys/{id}");
        let r = api(&self.a.base, "DELETE", &path, &self.admin.secret, None).await;
        assert_eq!(r.status, 200, "{r:?}");
    }

    async fn close(self) {
        drop((self.a, self.b));
        self.app.close().await;
    }
}

#[tokio::test]
async fn revoke_on_a_is_refused_by_b_within_a_second() {
    let Some(p) = pair("revoke", &[], &[]).await else {
        return;
    };
    let (app, b) = (&p.app, &p.b);
    let mut took = Vec::new();
    for _ in 0..50 {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        // Warm: B has the key in its cache.
        assert_eq!(whoami(&b.base, &key.secret).await.status, 200);
        assert_eq!(whoami(&b.base, &key.secret).await.status, 200);
        p.revoke_on_a(&key.id).await;
        let since = Instant::now();
        took.push(refused_within_a_second(&b.base, &key.secret, "key_revoked", since).await);
    }
    figures("revoke on A -> refused on B", took);
    // B heard them as pushes, not by expiry: its metrics count the invalidations.
    let metrics = http()
        .get(&b.metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("latchkey_invalidations_received_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("latchkey_invalidation_listening 1"),
        "{metrics}"
    );
    assert!(metrics.contains("outcome=\"key_revoked\""), "{metrics}");
    p.close().await;
}

#[tokio::test]
async fn allowlist_edit_and_plan_downgrade_hold_on_every_replica_within_a_second() {
    let Some(p) = pair("edits", &[], &[]).await else {
        return;
    };
    let (app, a, b, admin) = (&p.app, &p.a, &p.b, &p.admin);

    // An allowlist edit through A: B refuses a caller outside it.
    let mut took = Vec::new();
    for _ in 0..50 {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        assert_eq!(whoami(&b.base, &key.secret).await.status, 200);
        let body = serde_json::json!({"allowlist": ["10.0.0.0/8"]});
        let path = format!("/v1/keys/{}", key.id);
        let r = api(&a.base, "PATCH", &path, &admin.secret, Some(body)).await;
        assert_eq!(r.status, 200, "{r:?}");
        let since = Instant::now();
        took.push(refused_within_a_second(&b.base, &key.secret, "ip_not_allowed", since).await);
        // Revoked so the plan's active-key limit never stops the loop.
        p.revoke_on_a(&key.id).await;
    }
    figures("allowlist edit on A -> refused on B", took);

    // A plan downgrade by another process (here the test's own, as the operator's tools
    // would): both replicas suspend the tenant's keys; an upgrade restores them.
    let acme = app.tenant_id("acme").await;
    let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    let operator = store::audit::Actor::operator();
    let mut took = Vec::new();
    for _ in 0..50 {
        for r in [&a, &b] {
            assert_eq!(whoami(&r.base, &key.secret).await.status, 200);
        }
        store::tenants::change_plan(&app.state.db, acme, Plan::Starter, &operator)
            .await
            .unwrap();
        let since = Instant::now();
        took.push(refused_within_a_second(&b.base, &key.secret, "plan_required", since).await);
        refused_within_a_second(&a.base, &key.secret, "plan_required", since).await;
        store::tenants::change_plan(&app.state.db, acme, Plan::Professional, &operator)
            .await
            .unwrap();
        let since = Instant::now();
        while whoami(&b.base, &key.secret).await.status != 200 {
            assert!(since.elapsed() < Duration::from_secs(1), "upgrade not seen");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    figures("plan downgrade -> refused on B", took);
    p.close().await;
}

#[tokio::test]
async fn a_replica_that_loses_its_listener_verifies_from_storage_until_it_listens_again() {
    // B waits 3 s before listening again: long enough to change a key while it cannot hear.
    let Some(p) = pair("listener", &[], &["--listener-retry-ms", "3000"]).await else {
        return;
    };
    let (app, b) = (&p.app, &p.b);
    assert_eq!(b.health().await["invalidations"], "listening");
    let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    assert_eq!(whoami(&b.base, &key.secret).await.status, 200);
    assert_eq!(whoami(&b.base, &key.secret).await.status, 200);

    // Kill B's listening connection from the server side.
    let name = format!("latchkey-listener-{}", b.child.id());
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) AS t",
    )
    .bind(&name)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(killed, 1, "B's listener backend");
    let since = Instant::now();
    while b.health().await["invalidations"] != "reconnecting" {
        assert!(since.elapsed() < Duration::from_secs(2), "B never noticed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        http()
            .get(format!("{}/readyz", b.base))
            .send()
            .await
            .unwrap()
            .status(),
        503,
        "not ready while deaf"
    );
    // Revoked through A while B cannot hear it: B refuses on its very next request.
    p.revoke_on_a(&key.id).await;
    let r = whoami(&b.base, &key.secret).await;
    assert_eq!((r.status, r.code()), (401, "key_revoked"), "{r:?}");
    assert_eq!(b.health().await["invalidations"], "reconnecting");

    // Then it listens again, and pushes work as before.
    let since = Instant::now();
    while b.health().await["invalidations"] != "listening" {
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "B never listened again:\n{}",
            b.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    assert_eq!(whoami(&b.base, &again.secret).await.status, 200);
    p.revoke_on_a(&again.id).await;
    refused_within_a_second(&b.base, &again.secret, "key_revoked", Instant::now()).await;
    assert!(b.log_text().contains("lost the invalidation listener"));
    p.close().await;
}

/// A Redis server this test owns, on a free port, stopped when dropped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let redis = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `n` whoami calls alternating between the replicas; how many were let through.
async fn successes(replicas: &[&Replica], key: &str, n: usize) -> usize {
    let mut ok = 0;
    for i in 0..n {
        let r = whoami(&replicas[i % replicas.len()].base, key).await;
        match r.status {
            200 => ok += 1,
            429 => assert_eq!(r.code(), "rate_limited"),
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    ok
}

#[tokio::test]
async fn with_redis_two_replicas_share_one_budget_and_survive_its_outage() {
    let port = free_port();
    let Some(redis) = OwnRedis::start(port) else {
        eprintln!("SKIPPED: shared rate-limit test needs redis-server on PATH");
        return;
    };
    let store_url = format!("redis://127.0.0.1:{}", redis.port);
    let flags = [
        "--rate-limit-store",
        &store_url,
        "--rate-limit-professional",
        "60",
        "--sign-in-per-email",
        "3",
    ];
    let Some(p) = pair("redis", &flags, &[]).await else {
        return;
    };
    let (app, a, b) = (&p.app, &p.a, &p.b);

    // 150 calls within a few seconds, alternating: ~60 pass in all (the budget, plus what
    // refills meanwhile at one a second), not ~120 (60 each).
    let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    let started = Instant::now();
    let ok = successes(&[a, b], &key.secret, 150).await;
    let refill = started.elapsed().as_secs() as usize + 1;
    assert!((60..=60 + refill).contains(&ok), "{ok} passed");
    // Both replicas answer the same remaining budget in their headers.
    let r = whoami(&a.base, &key.secret).await;
    assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("60"));

    // Sign-in throttles are shared too: wrong passwords for one email, alternating replicas,
    // are refused after the email's 3 (each replica alone would allow more).
    let mut statuses = Vec::new();
    for i in 0..4 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = http()
            .post(format!("{base}/api/sign_in"))
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("email", "owner@acme.test"),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..3].iter().all(|s| *s != 429), "{statuses:?}");
    assert_eq!(statuses[3], 429, "{statuses:?}");

    // Redis goes away: traffic is still answered (each replica limits on its own) and logged.
    drop(redis);
    let fresh = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    let ok = successes(&[a, b], &fresh.secret, 20).await;
    assert_eq!(ok, 20, "answered from the local limiters");
    assert!(
        a.log_text().contains("Redis rate-limit store unavailable"),
        "{}",
        a.log_text()
    );

    // Redis is back (empty): after the retry pause the budget is shared again.
    let _redis = OwnRedis::start(port).unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    let started = Instant::now();
    let ok = successes(&[a, b], &key.secret, 150).await;
    let refill = started.elapsed().as_secs() as usize + 1;
    assert!(
        (60..=60 + refill).contains(&ok),
        "{ok} passed after Redis came back"
    );
    p.close().await;
}

#[tokio::test]
async fn a_cli_revoke_holds_on_a_running_sqlite_server_within_a_second() {
    let app = TestApp::new(&Engine::Sqlite).await;
    let dir = scratch("sqlite");
    let server = start(&app.url, &dir, "only", &[]).await;
    assert_eq!(server.health().await["invalidations"], "listening");

    // A second server on the same file is refused, saying why.
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &app.url])
        .args(["--data-dir", dir.join("second").to_str().unwrap()])
        .args(["--pepper", &test_pepper_hex()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another Latchkey server is already serving"),
        "{err}"
    );

    let mut took = Vec::new();
    for _ in 0..50 {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        assert_eq!(whoami(&server.base, &key.secret).await.status, 200);
        assert_eq!(whoami(&server.base, &key.secret).await.status, 200);
        let out = run_latchkey(&app.url, &["key", "revoke", &key.id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let since = Instant::now();
        took.push(refused_within_a_second(&server.base, &key.secret, "key_revoked", since).await);
    }
    figures("CLI revoke -> refused by the SQLite server", took);
    drop(server);
    app.close().await;
}

#[tokio::test]
async fn a_replica_with_another_pepper_is_refused() {
    for engine in engines() {
        let app = TestApp::new(&engine).await;
        let dir = scratch("pepper");
        // The first process to load the pepper records its check value; the same pepper passes.
        let ok = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args([
                "--database-url",
                &app.url,
                "--data-dir",
                dir.to_str().unwrap(),
            ])
            .args(["--pepper", &test_pepper_hex()])
            .args([
                "key",
                "create",
                "--tenant",
                "acme",
                "--name",
                "x",
                "--scope",
                "keys:read",
            ])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &app.url])
            .args(["--data-dir", dir.to_str().unwrap()])
            .args(["--pepper", &"08".repeat(32)])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{}", app.engine);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("this pepper is not the one"), "{err}");
        app.close().await;
    }
}

#[tokio::test]
async fn a_request_log_reads_in_time_order_whichever_replica_wrote_first() {
    on_every_engine(|app| async move {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let tenant = app.tenant_id("acme").await;
        let row_id = app
            .scalar_i64(&format!(
                "SELECT id FROM api_keys WHERE public_id = '{}'",
                key.id
            ))
            .await;
        // Inserted in the order two replicas' batches might land: ids do not follow time.
        for (at, request_id) in [(2_000, "r2"), (1_000, "r1a"), (3_000, "r3"), (1_000, "r1b")] {
            sqlx::query(
                "INSERT INTO request_logs (tenant_id, key_id, created_at, method, path, status, \
                 client_ip, latency_us, request_id) VALUES ($1, $2, $3, 'GET', '/v1/whoami', 200, \
                 NULL, 1, $4)",
            )
            .bind(tenant)
            .bind(row_id)
            .bind(at)
            .bind(request_id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        }
        let page = |before| store::keys::request_log(&app.state.db, tenant, &key.id, before, 2);
        let (first, next) = page(None).await.unwrap();
        let ids: Vec<_> = first.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, ["r3", "r2"], "{}", app.engine);
        let (second, last) = page(next).await.unwrap();
        let ids: Vec<_> = second.iter().map(|r| r.request_id.as_str()).collect();
        // Equal times: the later row first, as within one replica's batch.
        assert_eq!(ids, ["r1b", "r1a"], "{}", app.engine);
        assert_eq!(last, None);
        app
    })
    .await;
}

#[tokio::test]
async fn two_replicas_flushing_usage_at_once_lose_no_batch() {
    use store::verify::usage::{Usage, UsageConfig, UsageEvent};
    let Some(engine) = postgres() else { return };
    let app = TestApp::new(&engine).await;
    let tenant = app.tenant_id("acme").await;
    let mut keys = Vec::new();
    for _ in 0..20 {
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let sql = format!("SELECT id FROM api_keys WHERE public_id = '{}'", key.id);
        keys.push(app.scalar_i64(&sql).await);
    }
    // Two replicas' writers (each its own map of "last used" per key), flushing together.
    let config = || UsageConfig {
        flush_interval: Duration::from_secs(3600),
        ..UsageConfig::default()
    };
    let (one, two) = (
        Usage::start(app.state.db.clone(), config()),
        Usage::start(app.state.db.clone(), config()),
    );
    for round in 0..20 {
        for usage in [&one, &two] {
            for key in &keys {
                usage.record(UsageEvent {
                    tenant_id: tenant,
                    key_row_id: *key,
                    at_ms: store::db::now_ms() + round,
                    method: "GET".into(),
                    path: "/v1/whoami".into(),
                    status: 200,
                    client_ip: None,
                    latency_us: 1,
                    request_id: format!("req_{round}"),
                    refused: false,
                });
            }
        }
        tokio::join!(one.flush(), two.flush());
    }
    use std::sync::atomic::Ordering::Relaxed;
    let failed = one.stats.failed_rows.load(Relaxed) + two.stats.failed_rows.load(Relaxed);
    assert_eq!(failed, 0, "batches lost (deadlocked) between the writers");
    let written = one.stats.rows_written.load(Relaxed) + two.stats.rows_written.load(Relaxed);
    assert_eq!(written, 2 * 20 * 20);
    app.close().await;
}

#[tokio::test]
async fn a_server_killed_mid_delivery_delivers_every_event_after_it_restarts() {
    use common::receiver::{Receiver, HANG};
    let app = TestApp::with_settings(&Engine::Sqlite, |s| {
        s.webhooks.background = false;
        s.webhooks.allow_private = true;
    })
    .await;
    let rx = Receiver::start().await;
    let (_, secret) = store::webhooks::create(
        &app.state.db,
        &app.state.pepper,
        &app.state.settings.webhooks,
        app.tenant_id("acme").await,
        &store::audit::Actor::operator(),
        store::webhooks::EndpointInput {
            url: rx.url.clone(),
            description: String::new(),
            events: vec!["api_key.created".into()],
        },
    )
    .await
    .unwrap();
    rx.set_secret(secret.expose());
    // The receiver takes every first request and never answers.
    rx.plan(&[HANG; 5]);
    let dir = scratch("webhooks");
    let args = [
        "--webhook-timeout-ms",
        "3000",
        "--webhook-poll-ms",
        "50",
        "--webhook-allow-private",
        // All five in flight at once when the server is killed.
        "--webhook-per-endpoint",
        "5",
    ];
    let first = start(&app.url, &dir, "first", &args).await;
    for i in 0..5 {
        app.make_key_from(
            "acme",
            latchkey_domain::views::NewKey {
                name: format!("killed {i}"),
                mode: Some(Mode::Live),
                scopes: vec!["keys:read".into()],
                ..Default::default()
            },
        )
        .await;
    }
    let in_flight = rx.wait_for(Duration::from_secs(10), |g| g.len() >= 5).await;
    assert_eq!(in_flight.len(), 5, "{}", first.log_text());
    // kill -9 while all five wait for an answer.
    drop(first);
    let undelivered = app
        .scalar_i64("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'")
        .await;
    assert_eq!(undelivered, 5, "the killed server recorded nothing");

    let since = Instant::now();
    let second = start(&app.url, &dir, "second", &args).await;
    let ids: std::collections::BTreeSet<String> = in_flight.iter().map(|g| g.id.clone()).collect();
    let got = rx
        .wait_for(Duration::from_secs(30), |g| {
            let done: std::collections::BTreeSet<&str> = g
                .iter()
                .filter(|g| g.answered == 200)
                .map(|g| g.id.as_str())
                .collect();
            ids.iter().all(|id| done.contains(id.as_str()))
        })
        .await;
    let delivered: Vec<_> = got.iter().filter(|g| g.answered == 200).collect();
    assert_eq!(delivered.len(), 5, "{}", second.log_text());
    assert!(delivered.iter().all(|g| g.verified && ids.contains(&g.id)));
    eprintln!(
        "redelivered 5 events {:?} after the restart (the dead server's claims lapse after the timeout + 5 s)",
        since.elapsed()
    );
    for _ in 0..50 {
        let pending = app
            .scalar_i64("SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'delivered'")
            .await;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'")
            .await,
        5
    );
    drop(second);
    app.close().await;
}
