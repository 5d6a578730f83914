//! `/v1/leaks` cannot be turned into database load, on both engines: junk seen before costs no
//! storage read, every token spends from the reporter's budget (an IPv6 /48 shares one), the
//! work in flight is bounded, and a flood of new addresses never frees a spent one.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::Mode;
use serde_json::json;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

async fn app(engine: &Engine, tweak: impl FnOnce(&mut store::Settings)) -> TestApp {
    TestApp::with_settings(engine, |s| {
        s.webhooks.background = false;
        s.leak_report_floor = Duration::ZERO;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        tweak(s);
    })
    .await
}

/// POSTs a report of these tokens, as `from` (through the trusted proxy) when given.
async fn report(base: &str, tokens: &[String], from: Option<&str>) -> HttpResp {
    let body: Vec<serde_json::Value> = tokens.iter().map(|t| json!({ "token": t })).collect();
    let mut req = http().post(format!("{base}/v1/leaks")).json(&body);
    if let Some(ip) = from {
        req = req.header("x-forwarded-for", ip);
    }
    read(req.send().await.unwrap()).await
}

/// Well-formed keys (checksum and all) that were never issued.
fn junk(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            latchkey_domain::keys::generate(Mode::Live)
                .expose()
                .to_owned()
        })
        .collect()
}

fn lookups(app: &TestApp) -> u64 {
    app.state.verifier.storage_lookups.load(Ordering::Relaxed)
}

#[tokio::test]
async fn junk_reported_again_costs_no_storage_read() {
    for engine in engines() {
        let app = app(&engine, |_| {}).await;
        let base = app.serve().await;
        let tokens = junk(100);
        let before = lookups(&app);
        assert_eq!(report(&base, &tokens, None).await.status, 200);
        let first = lookups(&app) - before;
        assert_eq!(first, 100, "{}: each new token is one read", app.engine);
        assert_eq!(report(&base, &tokens, None).await.status, 200);
        assert_eq!(
            lookups(&app) - before,
            first,
            "{}: junk seen before reached storage again",
            app.engine
        );
        app.close().await;
    }
}

#[tokio::test]
async fn a_report_spends_one_from_the_budget_per_token() {
    for engine in engines() {
        let app = app(&engine, |s| s.leak_tokens_per_minute = 10).await;
        let base = app.serve().await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        // Eleven tokens, the real key last: over the budget, so none is acted on.
        let mut eleven = junk(10);
        eleven.push(key.secret.clone());
        let over = report(&base, &eleven, None).await;
        assert_eq!(over.status, 429, "{}: {:?}", app.engine, over.body);
        assert_eq!(over.code(), "rate_limited");
        assert!(over.header("retry-after").is_some());
        let still = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(still.status, 200, "a refused report revoked a key");

        // The refusal spent nothing: ten fit, and then not one more.
        assert_eq!(report(&base, &junk(10), None).await.status, 200);
        let one_more = report(&base, std::slice::from_ref(&key.secret), None).await;
        assert_eq!(one_more.status, 429, "{}", app.engine);
        app.close().await;
    }
}

#[tokio::test]
async fn past_the_in_flight_bound_a_report_starts_no_work() {
    for engine in engines() {
        let app = app(&engine, |s| {
            s.leak_reports_in_flight = 2;
            // Answered at the floor, while the work waits on storage.
            s.leak_report_floor = Duration::from_millis(200);
        })
        .await;
        let base = app.serve().await;
        let gate = app.state.leaks.clone();
        // Storage made slow: every connection of the pool is held here.
        let pool = &app.state.db.pool;
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            held.push(pool.acquire().await.unwrap());
        }
        for n in 1..=2 {
            assert_eq!(report(&base, &junk(1), None).await.status, 200);
            assert_eq!((gate.in_flight(), gate.started()), (n, n as u64));
        }
        let refused = report(&base, &junk(1), None).await;
        assert_eq!(refused.status, 429, "{}: {:?}", app.engine, refused.body);
        assert_eq!(refused.code(), "rate_limited");
        assert_eq!(
            (gate.in_flight(), gate.started()),
            (2, 2),
            "{}: the third report started work",
            app.engine
        );

        drop(held);
        tokio::time::timeout(Duration::from_secs(20), async {
            while gate.in_flight() > 0 {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        assert_eq!(report(&base, &junk(1), None).await.status, 200);
        assert_eq!(gate.started(), 3);
        app.close().await;
    }
}

#[tokio::test]
async fn a_flood_of_new_addresses_never_frees_a_spent_one() {
    for engine in engines() {
        let app = app(&engine, |s| s.leak_tokens_per_minute = 5).await;
        let base = app.serve().await;
        assert_eq!(report(&base, &junk(5), None).await.status, 200);
        assert_eq!(report(&base, &junk(1), None).await.status, 429);
        // 20,000 other addresses, each spending a token.
        let gate = &app.state.leaks;
        for i in 0..20_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(gate.spend(ip, 1).is_ok(), "{ip}");
        }
        assert!(gate.tracked() <= store::keys::leak::TRACKED_MAX);
        let after = report(&base, &junk(1), None).await;
        assert_eq!(
            after.status, 429,
            "{}: the flood reset the budget",
            app.engine
        );
        app.close().await;
    }
    // Its memory stays bounded, forgetting the least recent address first: one that keeps
    // trying is still refused after 10,001 and then 20,000 newer ones.
    let gate = store::keys::leak::LeakGate::new(1, 1, 15_000);
    let heavy: IpAddr = "198.51.100.7".parse().unwrap();
    assert!(gate.spend(heavy, 1).is_ok());
    for i in 0..30_001u32 {
        let _ = gate.spend(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)), 1);
        if i == 10_000 || i % 1_000 == 0 {
            assert!(gate.spend(heavy, 1).is_err(), "freed after {i} others");
        }
        assert!(gate.tracked() <= 15_000, "{} kept", gate.tracked());
    }
}

#[tokio::test]
async fn addresses_in_one_ipv6_48_share_its_budget() {
    for engine in engines() {
        let app = app(&engine, |s| s.leak_tokens_per_minute = 10).await;
        let base = app.serve().await;
        // Eight /64s of 2001:db8:1::/48 spend their own budgets, and so the /48's (8 × 10).
        for i in 0..8 {
            let from = format!("2001:db8:1:{i:x}::1");
            let r = report(&base, &junk(10), Some(&from)).await;
            assert_eq!(r.status, 200, "{}: {from}", app.engine);
        }
        let ninth = report(&base, &junk(1), Some("2001:db8:1:99::1")).await;
        assert_eq!(
            ninth.status, 429,
            "{}: a fresh /64 of a spent /48",
            app.engine
        );
        let other_48 = report(&base, &junk(1), Some("2001:db8:2:1::1")).await;
        assert_eq!(other_48.status, 200);
        // Two addresses of one /64 share that /64's budget.
        assert_eq!(
            report(&base, &junk(10), Some("2001:db8:3:1::1"))
                .await
                .status,
            200
        );
        let same_64 = report(&base, &junk(1), Some("2001:db8:3:1:ffff::2")).await;
        assert_eq!(same_64.status, 429);
        app.close().await;
    }
}
