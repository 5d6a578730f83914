//! Webhooks and leak reports, on SQLite and on PostgreSQL (when `LATCHKEY_BENCH_POSTGRES_URL`
//! names a server): what the outbox adds to an audited key change (a disable/enable toggle,
//! median, with no endpoint, one endpoint not subscribed, one subscribed), how fast one worker
//! drains 2,000 queued events to a loopback receiver, and a `/v1/leaks` answer for junk and for
//! a real key with the timing floor off (the difference the floor hides) and on.

use crate::{make_key, ms, on_both_engines, say, serve, settings};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};
use store::audit::Actor;
use store::webhooks::{DispatcherConfig, EndpointInput};
use store::AppState;

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    say("Webhooks (one worker, loopback receiver answering 200; medians of 200 changes)");
    say("                key change: no endpoint / not subscribed / subscribed   drain 2,000 events   leak report: junk / real key (floor 0)   with the 500 ms floor");
    on_both_engines(work, "webhooks.db", |url, label| async move {
        one(&url, label, site_root).await
    })
    .await
}

/// A receiver that answers 200 at once.
async fn receiver() -> Result<String> {
    let router = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    Ok(format!("{}/hook", serve(router).await?))
}

/// Median time of `n` disable/enable toggles of one key (each an audited key change).
async fn toggles(state: &AppState, tenant: i64, key: &str, n: usize) -> Result<f64> {
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        store::keys::set_enabled(&state.db, tenant, &Actor::operator(), key, i % 2 == 1)
            .await
            .map_err(|e| anyhow::anyhow!("toggle: {e}"))?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(took[n / 2])
}

async fn endpoint(state: &AppState, tenant: i64, url: &str, events: &[&str]) -> Result<()> {
    store::webhooks::create(
        &state.db,
        &state.pepper,
        &state.settings.webhooks,
        tenant,
        &Actor::operator(),
        EndpointInput {
            url: url.to_owned(),
            description: String::new(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("endpoint: {e}"))?;
    Ok(())
}

/// Median answer time of `/v1/leaks` for a report of `token`.
async fn leak_answer(base: &str, token: &str, n: usize) -> Result<f64> {
    let client = reqwest::Client::new();
    let body =
        serde_json::json!([{ "token": token, "url": "https://example.com/leak" }]).to_string();
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let res = client
            .post(format!("{base}/v1/leaks"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "leak report answered {}", res.status());
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(took[n / 2])
}

async fn one(url: &str, label: &str, site_root: &Path) -> Result<()> {
    let (db, pepper) = crate::seeded(url).await?;
    let mut s = settings();
    s.webhooks = DispatcherConfig {
        background: false,
        // The receiver listens on loopback.
        allow_private: true,
        ..DispatcherConfig::default()
    };
    s.leak_report_floor = Duration::ZERO;
    let state = AppState::new(db.clone(), s, pepper.clone());
    let (tenant, _) = store::tenants::by_slug(&db, "acme")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("acme")?;
    make_key(&state, tenant, "toggled").await?;
    let key: String = sqlx::query_scalar(
        "SELECT public_id FROM api_keys WHERE tenant_id = $1 AND name = 'toggled'",
    )
    .bind(tenant)
    .fetch_one(&db.pool)
    .await?;
    let none = toggles(&state, tenant, &key, 200).await?;
    let hook = receiver().await?;
    endpoint(&state, tenant, &hook, &["api_key.leaked"]).await?;
    let unsubscribed = toggles(&state, tenant, &key, 200).await?;
    endpoint(
        &state,
        tenant,
        &hook,
        &["api_key.disabled", "api_key.enabled"],
    )
    .await?;
    let subscribed = toggles(&state, tenant, &key, 200).await?;
    // Drain what the last 200 queued, then queue 2,000 and time the worker draining them.
    while state
        .webhooks
        .deliver_due()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        > 0
    {}
    toggles(&state, tenant, &key, 2_000).await?;
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let n = state
            .webhooks
            .deliver_due()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if n == 0 {
            break;
        }
        sent += n;
    }
    let drained = started.elapsed().as_secs_f64();

    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let base = serve(server::router(state.clone(), options.clone())).await?;
    let junk = leak_answer(&base, "lk_live_thisisnotakeyatallthisisnotakey00", 50).await?;
    let never_issued = latchkey_domain::keys::generate(latchkey_domain::keys::Mode::Live);
    let unknown = leak_answer(&base, never_issued.expose(), 50).await?;
    // A real key is stopped once; later reports of it are read-only, so time the first.
    let real = {
        let mut took = Vec::new();
        for i in 0..20 {
            let s = make_key(&state, tenant, &format!("leaked {i}")).await?;
            took.push(leak_answer(&base, &s, 1).await?);
        }
        took.sort_by(f64::total_cmp);
        took[took.len() / 2]
    };
    let floored_state = {
        let mut s = settings();
        s.webhooks.background = false;
        AppState::new(db.clone(), s, pepper)
    };
    let floored = serve(server::router(floored_state, options)).await?;
    let with_floor_real =
        leak_answer(&floored, &make_key(&state, tenant, "floored").await?, 1).await?;
    let with_floor_junk = leak_answer(&floored, "not a key", 3).await?;
    say(&format!(
        "  {label:<10} {:>20} / {:>9} / {:>9} {:>14.0} /s {:>18} / {} / {} (unknown) {:>11} / {}",
        ms(none),
        ms(unsubscribed),
        ms(subscribed),
        sent as f64 / drained,
        ms(junk),
        ms(real),
        ms(unknown),
        ms(with_floor_junk),
        ms(with_floor_real),
    ));
    db.pool.close().await;
    Ok(())
}
