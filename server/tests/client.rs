//! The host-side verifier (`latchkey-client`) against the real router on both engines: the
//! change stream's events, resume and reset, its bounds, the lease rule under a silent
//! partition, and usage posted back into the key's chart and request log.
#![allow(clippy::unwrap_used)]

mod common;

use common::proxy::Proxy;
use common::*;
use latchkey_client::{Rejection, Verifier};
use latchkey_domain::keys::Mode;
use sha2::Digest as _;
use std::time::{Duration, Instant};

const TOKEN: &str = "client-tests-service-token-0123456789abcdef";

async fn app_on(engine: &Engine, tweak: impl FnOnce(&mut store::Settings)) -> TestApp {
    TestApp::with_settings(engine, |s| {
        s.service_token_sha256 = Some(sha2::Sha256::digest(TOKEN.as_bytes()).into());
        s.usage_flush_interval = Duration::from_millis(50);
        tweak(s);
    })
    .await
}

fn verifier(base: &str, lease: Duration) -> Verifier {
    Verifier::builder(base, TOKEN)
        .lease(lease)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

async fn connected(v: &Verifier) {
    assert!(
        v.wait_connected(Duration::from_secs(10)).await,
        "the change stream never connected"
    );
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn code(r: Result<latchkey_client::Verdict, Rejection>) -> String {
    match r {
        Ok(_) => "allowed".into(),
        Err(e) => e.code().to_owned(),
    }
}

async fn revoke(app: &TestApp, slug: &str, key_id: &str) {
    let tenant = app.tenant_id(slug).await;
    store::keys::revoke(
        &app.state.db,
        tenant,
        &store::audit::Actor::operator(),
        key_id,
        "",
    )
    .await
    .unwrap();
}

/// Asks every millisecond until `key` is refused with `want`; how long that took (panics
/// after `limit`).
pub async fn refused_within(v: &Verifier, key: &str, want: &str, limit: Duration) -> Duration {
    let since = Instant::now();
    loop {
        let got = code(v.verify(key, Some("keys:read"), None).await);
        if got != "allowed" {
            assert_eq!(got, want);
            return since.elapsed();
        }
        assert!(since.elapsed() < limit, "still allowed after {limit:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads a raw stream until `n` events came (heartbeats too, unless `changes_only`), or 5 s
/// passed.
async fn raw_events(base: &str, last_event_id: Option<&str>, n: usize) -> Vec<(String, String)> {
    read_events(base, last_event_id, n, false).await
}

async fn read_events(
    base: &str,
    last_event_id: Option<&str>,
    n: usize,
    changes_only: bool,
) -> Vec<(String, String)> {
    let mut req = http()
        .get(format!("{base}/v1/changes"))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(5));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let mut res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut events = Vec::new();
    while events.len() < n && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), res.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            };
            if !(changes_only && field("event") == "heartbeat") {
                events.push((field("event"), field("id")));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_stream_names_changes_by_public_id_and_resumes_or_resets() {
    for engine in engines() {
        let app = app_on(&engine, |_| {}).await;
        let base = app.serve().await;
        // Without the service token: refused, like /v1/verify.
        let r = get_with_key(&base, "/v1/changes", Some("wrong")).await;
        assert_eq!((r.status, r.code()), (401, "invalid_service_token"));

        // A fresh stream starts with a reset (drop whatever you hold), then heartbeats.
        let first = raw_events(&base, None, 2).await;
        assert_eq!(first[0].0, "reset", "{first:?}");
        assert_eq!(first[1].0, "heartbeat", "{first:?}");
        let start = first[0].1.clone();

        let k1 = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let k2 = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        revoke(&app, "acme", &k1.id).await;
        revoke(&app, "acme", &k2.id).await;
        // Resuming after `start` replays both, in order, with no reset.
        let resumed = read_events(&base, Some(&start), 2, true).await;
        assert_eq!(
            resumed.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
            ["key", "key"],
            "{resumed:?}"
        );
        let ids: Vec<i64> = resumed.iter().map(|e| e.1.parse().unwrap()).collect();
        assert!(
            ids[0] > start.parse().unwrap() && ids[1] > ids[0],
            "{ids:?}"
        );

        // The log's payload names the key and tenant by public id.
        let tenant_public =
            store::operator::tenants::by_id(&app.state.db, app.tenant_id("acme").await)
                .await
                .unwrap()
                .public_id;
        let mut res = http()
            .get(format!("{base}/v1/changes"))
            .bearer_auth(TOKEN)
            .header("Last-Event-ID", &start)
            .send()
            .await
            .unwrap();
        let mut text = String::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !text.contains("\"key_id\"") && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(1), res.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        assert!(
            text.contains(&format!("\"key_id\":\"{}\"", k1.id))
                && text.contains(&format!("\"tenant\":\"{tenant_public}\"")),
            "{text}"
        );
        drop(res);

        // Older than the kept log (pruned): reset first.
        sqlx::query("DELETE FROM cache_invalidations")
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let old = raw_events(&base, Some(&start), 1).await;
        assert_eq!(old[0].0, "reset", "{old:?}");
        // An id from the future (another database): reset too.
        let future = raw_events(&base, Some("999999999"), 1).await;
        assert_eq!(future[0].0, "reset", "{future:?}");
        app.close().await;
    }
}

#[tokio::test]
async fn streams_past_the_cap_are_refused_and_a_closed_one_gives_its_slot_back() {
    let app = app_on(&Engine::Sqlite, |s| s.gateway.changes_max_streams = 2).await;
    let base = app.serve().await;
    let open = || async {
        http()
            .get(format!("{base}/v1/changes"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    };
    let a = open().await;
    let b = open().await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let c = open().await;
    assert_eq!(c.status(), 503);
    drop(a);
    // The closed stream's task notices at its next write (a heartbeat) and frees the slot.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let d = open().await;
        if d.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(b);
    app.close().await;
}

#[tokio::test]
async fn the_client_serves_from_memory_and_hears_a_revoke_and_a_plan_change() {
    for engine in engines() {
        let app = app_on(&engine, |_| {}).await;
        let base = app.serve().await;
        let v = verifier(&base, Duration::from_millis(500));
        connected(&v).await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;

        let first = v
            .verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        assert_eq!(first.key_id, key.id);
        assert_eq!(first.scopes, ["keys:read"]);
        let remote = v.stats().remote_calls;
        for _ in 0..100 {
            v.verify(&key.secret, Some("keys:read"), None)
                .await
                .unwrap();
        }
        assert_eq!(v.stats().remote_calls, remote, "answered from memory");
        // The scope asked is part of the question: a missing one is refused (and remembered).
        let r = v.verify(&key.secret, Some("keys:write"), None).await;
        assert_eq!(code(r), "insufficient_scope");
        // Junk is refused without a cache entry for the key's own question.
        assert_eq!(
            code(v.verify("lk_live_junk", None, None).await),
            "invalid_api_key"
        );

        revoke(&app, "acme", &key.id).await;
        refused_within(&v, &key.secret, "key_revoked", Duration::from_secs(2)).await;

        // A plan change (a tenant event) drops the tenant's cached allows.
        let other = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        v.verify(&other.secret, Some("keys:read"), None)
            .await
            .unwrap();
        v.verify(&other.secret, Some("keys:read"), None)
            .await
            .unwrap();
        let acme = app.tenant_id("acme").await;
        let operator = store::audit::Actor::operator();
        store::tenants::change_plan(
            &app.state.db,
            acme,
            latchkey_domain::Plan::Starter,
            &operator,
        )
        .await
        .unwrap();
        refused_within(&v, &other.secret, "plan_required", Duration::from_secs(2)).await;
        // ...and the way back: the cached refusal goes with the next tenant event.
        store::tenants::change_plan(
            &app.state.db,
            acme,
            latchkey_domain::Plan::Professional,
            &operator,
        )
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while v
            .verify(&other.secret, Some("keys:read"), None)
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the upgrade never reached the client"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(v.stats().changes >= 3, "{:?}", v.stats());
        app.close().await;
    }
}

#[tokio::test]
async fn a_silent_partition_stops_cached_allows_at_the_lease_and_fails_closed() {
    for engine in engines() {
        let app = app_on(&engine, |_| {}).await;
        let proxy = Proxy::start(&app.serve().await).await;
        let lease = Duration::from_millis(300);
        let v = verifier(&proxy.base, lease);
        connected(&v).await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        v.verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        v.verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        let hits = v.stats().cache_hits;
        assert!(hits >= 1);

        // The stream's connection is black-holed (not closed): nothing says it is gone.
        proxy.silence_existing();
        until("the lease to lapse", || !v.lease_holds()).await;
        let before = v.stats();
        // New connections still pass: the call goes remote and is answered.
        v.verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        let after = v.stats();
        assert_eq!(
            after.cache_hits, before.cache_hits,
            "no cached allow past the lease"
        );
        assert!(after.remote_calls > before.remote_calls);
        assert!(after.lease_lapses > before.lease_lapses);

        // Latchkey unreachable altogether: refused as unavailable, never allowed.
        proxy.silence_all();
        let r = v.verify(&key.secret, Some("keys:read"), None).await;
        assert_eq!(r, Err(Rejection::Unavailable));
        assert_eq!(r.unwrap_err().status(), 503);
        // Cached denials may still be served.
        let junk_before = v.stats().remote_calls;
        proxy.heal();
        assert_eq!(
            code(v.verify("lk_live_junk", None, None).await),
            "invalid_api_key"
        );
        proxy.silence_all();
        assert_eq!(
            code(v.verify("lk_live_junk", None, None).await),
            "invalid_api_key"
        );
        assert_eq!(
            v.stats().remote_calls,
            junk_before + 1,
            "the second from memory"
        );

        // Healed: the client reconnects by itself and serves from memory again.
        proxy.heal();
        connected(&v).await;
        v.verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        let hits = v.stats().cache_hits;
        v.verify(&key.secret, Some("keys:read"), None)
            .await
            .unwrap();
        assert_eq!(v.stats().cache_hits, hits + 1);
        app.close().await;
    }
}

#[tokio::test]
async fn a_reconnect_resumes_after_the_last_event_without_a_reset() {
    for engine in engines() {
        let app = app_on(&engine, |_| {}).await;
        let proxy = Proxy::start(&app.serve().await).await;
        let v = verifier(&proxy.base, Duration::from_millis(300));
        connected(&v).await;
        let (k1, k2) = (
            app.make_key("acme", &["keys:read"], Mode::Live, "").await,
            app.make_key("acme", &["keys:read"], Mode::Live, "").await,
        );
        for k in [&k1, &k2] {
            v.verify(&k.secret, Some("keys:read"), None).await.unwrap();
        }
        let resets = v.stats().resets;
        assert_eq!(resets, 1, "the first connect's reset");

        proxy.cut_and_refuse();
        until("the lease to lapse", || !v.lease_holds()).await;
        revoke(&app, "acme", &k1.id).await;
        revoke(&app, "acme", &k2.id).await;
        proxy.heal();
        connected(&v).await;
        // Both revocations were replayed from the log: their cached allows are gone.
        for k in [&k1, &k2] {
            assert_eq!(
                code(v.verify(&k.secret, Some("keys:read"), None).await),
                "key_revoked"
            );
        }
        assert_eq!(v.stats().resets, resets, "resumed, not reset");
        assert!(v.stats().stream_connects >= 2);
        app.close().await;
    }
}

#[tokio::test]
async fn usage_posted_by_the_client_shows_in_the_chart_and_request_log() {
    for engine in engines() {
        let app = app_on(&engine, |_| {}).await;
        let base = app.serve().await;
        let v = verifier(&base, Duration::from_millis(500));
        connected(&v).await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        for _ in 0..5 {
            v.check(&key.secret, Some("keys:read"), None, "GET", "/payments/42")
                .await
                .unwrap();
        }
        v.flush_usage().await.unwrap();
        app.state.verifier.usage.flush().await;
        let acme = app.tenant_id("acme").await;
        let (rows, _) = store::keys::request_log(&app.state.db, acme, &key.id, None, 50)
            .await
            .unwrap();
        let host_rows = rows
            .iter()
            .filter(|r| r.method == "GET" && r.path == "/payments/42" && r.status == 200)
            .count();
        assert_eq!(host_rows, 4, "the four answered from memory: {rows:?}");
        // The first went to /v1/verify, which logs it itself.
        assert_eq!(
            rows.iter().filter(|r| r.method == "VERIFY").count(),
            1,
            "{rows:?}"
        );
        let usage = store::keys::usage(&app.state.db, acme, &key.id)
            .await
            .unwrap();
        let succeeded: u64 = usage.hourly.iter().map(|b| b.succeeded).sum();
        assert_eq!(succeeded, 5);
        let view = store::keys::get(&app.state.db, acme, &key.id)
            .await
            .unwrap();
        assert!(view.last_used_at.is_some(), "last used moved");

        // The endpoint itself: service token, bounded batches, unknown keys skipped.
        let post = |token: &'static str, body: serde_json::Value| {
            let base = base.clone();
            async move {
                http()
                    .post(format!("{base}/v1/usage"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let r = post("wrong", serde_json::json!({"events": []})).await;
        assert_eq!(r.status(), 401);
        let event =
            serde_json::json!({"key_id": "key_nope", "status": 200, "path": "/x", "at_ms": 0});
        let r = post(TOKEN, serde_json::json!({"events": [event]})).await;
        assert_eq!(r.status(), 202);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["unknown"], 1);
        let many: Vec<_> = (0..1001)
            .map(|_| serde_json::json!({"key_id": "k", "status": 200, "path": "", "at_ms": 0}))
            .collect();
        let r = post(TOKEN, serde_json::json!({"events": many})).await;
        assert!(r.status() == 413 || r.status() == 422, "{}", r.status());
        app.close().await;
    }
}
