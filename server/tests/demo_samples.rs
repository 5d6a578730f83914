//! `--demo-samples` on every engine: Acme's first keys list shows a key in each state, a key's
//! charts and request log show a day of traffic, and seeding again changes nothing. The flag
//! is off unless asked for, and only with `--demo` (the e2e suite counts keys on a bare demo).
#![allow(clippy::unwrap_used)]

mod common;

use clap::Parser as _;
use common::*;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

async fn seed(app: &TestApp) -> bool {
    store::demo::seed_demo_samples(
        &app.state.db,
        &app.state.pepper,
        &app.state.settings.scope_catalogue,
    )
    .await
    .unwrap()
}

/// Acme's keys as the owner's keys page lists them, revoked ones included.
async fn listed(app: &TestApp, owner: &str, status: Value) -> Value {
    let r = app
        .call_json(
            "keys/list",
            json!({"search": "", "include_revoked": true, "status": status, "before": null}),
            Some(owner),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn named<'a>(page: &'a Value, name: &str) -> Vec<&'a Value> {
    page["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == name)
        .collect()
}

#[tokio::test]
async fn the_first_keys_list_shows_a_key_in_every_state_with_a_day_of_usage() {
    on_every_engine(|app| async move {
        assert!(seed(&app).await, "{}: Acme had no keys", app.engine);
        let now = app.state.db.clock.now_ms();
        let owner = app.sign_in("owner@acme.test").await;
        let page = listed(&app, &owner, Value::Null).await;
        assert_eq!(page["keys"].as_array().unwrap().len(), 6, "{page}");
        // Newest first: the list opens on the busiest key.
        assert_eq!(page["keys"][0]["name"], "Payments service");

        let payments = named(&page, "Payments service")[0];
        assert_eq!(payments["status"], "active");
        assert_eq!(payments["mode"], "live");
        assert_eq!(payments["created_by"], "demo-seed");
        assert!(!payments["scopes"].as_array().unwrap().is_empty());

        let ci = named(&page, "CI deploy")[0];
        assert_eq!(ci["status"], "active");
        assert_eq!(ci["mode"], "test");
        let expires = ci["expires_at"].as_i64().unwrap();
        assert!(
            expires > now + 5 * DAY_MS - 60_000 && expires <= now + 6 * DAY_MS,
            "expires in 5 days: {expires} at {now}"
        );
        let expiring = listed(&app, &owner, json!("expiring")).await;
        assert_eq!(named(&expiring, "CI deploy").len(), 1, "{expiring}");

        // Rolled: the old key works through its overlap, its replacement is active.
        let reporting = named(&page, "Reporting export");
        assert_eq!(reporting.len(), 2, "{page}");
        let old = reporting
            .iter()
            .find(|k| !k["rolled_to"].is_null())
            .unwrap();
        let new = reporting
            .iter()
            .find(|k| !k["rolled_from"].is_null())
            .unwrap();
        assert_eq!(old["status"], "active");
        assert_eq!(new["status"], "active");
        assert_eq!(old["rolled_to"], new["id"]);
        // A day's overlap from the roll, a moment before `now`.
        let until = old["expires_at"].as_i64().unwrap();
        assert!(
            until > now + DAY_MS - 60_000 && until <= now + DAY_MS,
            "{until} at {now}"
        );

        assert_eq!(named(&page, "Partner sandbox")[0]["status"], "disabled");
        let retired = named(&page, "Old integration")[0];
        assert_eq!(retired["status"], "revoked");
        assert_eq!(retired["revoked_by"], "demo-seed");

        // The list's "last 24 h" counts, and the key's hourly chart: busy most of the day,
        // mostly successes, with some refusals and rate limiting.
        let id = payments["id"].as_str().unwrap();
        assert!(page["requests_24h"][id].as_u64().unwrap() > 1000, "{page}");
        assert!(
            page["requests_24h"][old["id"].as_str().unwrap()]
                .as_u64()
                .unwrap()
                > 0
        );
        let detail = app
            .call_json("keys/get", json!({ "id": id }), Some(&owner))
            .await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        let hourly = detail.json()["usage"]["hourly"].as_array().unwrap().clone();
        assert_eq!(hourly.len(), 24);
        let busy = hourly
            .iter()
            .filter(|b| b["succeeded"].as_u64().unwrap() > 0)
            .count();
        assert!(busy >= 23, "{busy} busy hours");
        let sum = |field: &str| -> u64 { hourly.iter().map(|b| b[field].as_u64().unwrap()).sum() };
        assert!(sum("rate_limited") > 0);
        assert!(sum("succeeded") > 20 * sum("rate_limited"));
        assert!(hourly
            .iter()
            .any(|b| !b["refused"].as_array().unwrap().is_empty()));
        assert!(payments["last_used_at"].as_i64().unwrap() <= now);

        // Its request log, newest first, with a refusal among them.
        let log = app
            .call_json(
                "keys/requests",
                json!({ "id": id, "before": null }),
                Some(&owner),
            )
            .await;
        assert_eq!(log.status, 200, "{}", log.body);
        let rows = log.json()["rows"].as_array().unwrap().clone();
        assert!(rows.len() >= 10, "{}", log.body);
        assert!(rows.iter().all(|r| r["method"] == "VERIFY"));
        assert!(rows.iter().any(|r| r["status"] == 403));
        app
    })
    .await;
}

#[tokio::test]
async fn seeding_the_samples_again_adds_nothing() {
    on_every_engine(|app| async move {
        assert!(seed(&app).await);
        let keys = "SELECT COUNT(*) FROM api_keys";
        let usage = "SELECT COUNT(*) FROM key_usage_hourly";
        let logged = "SELECT COUNT(*) FROM request_logs";
        let before = (
            app.scalar_i64(keys).await,
            app.scalar_i64(usage).await,
            app.scalar_i64(logged).await,
        );
        assert!(!seed(&app).await, "{}", app.engine);
        assert_eq!(
            (
                app.scalar_i64(keys).await,
                app.scalar_i64(usage).await,
                app.scalar_i64(logged).await,
            ),
            before
        );
        // A few dozen logged requests.
        assert!((24..=60).contains(&before.2), "{before:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_tenant_that_already_has_keys_gets_no_samples() {
    on_every_engine(|app| async move {
        app.make_key(
            "acme",
            &["keys:read"],
            latchkey_domain::keys::Mode::Live,
            "",
        )
        .await;
        assert!(!seed(&app).await);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM api_keys").await, 1);
        app
    })
    .await;
}

#[test]
fn the_flag_is_off_by_default_and_needs_demo() {
    let parse = |args: &[&str]| server::config::Cli::try_parse_from(args).map(|c| c.command);
    let serve = |args: &[&str]| match parse(args).unwrap() {
        server::config::Command::Serve(serve) => serve,
        other => panic!("not serve: {other:?}"),
    };
    assert!(!serve(&["latchkey", "serve", "--demo"]).demo_samples);
    assert!(serve(&["latchkey", "serve", "--demo", "--demo-samples"]).demo_samples);
    assert!(parse(&["latchkey", "serve", "--demo-samples"]).is_err());
}
