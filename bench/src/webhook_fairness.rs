//! Webhook fairness, on SQLite and on PostgreSQL (when `LATCHKEY_BENCH_POSTGRES_URL` names a
//! server): how long tenant B's event takes to be delivered while tenant A's 10 endpoints
//! accept connections and never answer, with 1,000 of A's deliveries pending. Measured with the
//! default worker (32 sending slots, 10 s timeout) and with every slot taken by A (8 slots,
//! 1 s timeout). The worker before claims per endpoint and tenant turns (one global batch of
//! 16, oldest first, each batch waiting for its slowest attempt) is given by arithmetic: B's
//! event waited behind the whole backlog, 1,000 / 16 batches of one timeout each.

use crate::{make_key, ms, on_both_engines, say, serve, settings};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};
use store::audit::Actor;
use store::webhooks::EndpointInput;
use store::AppState;

const BLACKHOLES: usize = 10;
const EVENTS_PER_BLACKHOLE: usize = 100;
const SAMPLES: usize = 5;

pub async fn run(work: &Path) -> Result<()> {
    say("Webhook fairness (B's delivery latency while A's 10 endpoints never answer, 1,000 of A's deliveries pending; median / max of 5)");
    say("                 defaults: 32 slots, 10 s timeout     8 slots, 1 s timeout (all taken by A)     before: one global batch of 16 (computed)");
    on_both_engines(work, "fairness.db", |url, label| async move {
        one(&url, label).await
    })
    .await
}

async fn one(url: &str, label: &str) -> Result<()> {
    let (db, pepper) = crate::seeded(url).await?;
    let saturated = scenario(&db, &pepper, 8, Duration::from_secs(1)).await?;
    let defaults = scenario(&db, &pepper, 32, Duration::from_secs(10)).await?;
    let before = |timeout_s: f64| {
        let batches = (BLACKHOLES * EVENTS_PER_BLACKHOLE).div_ceil(16) as f64;
        format!(
            "{:.0} s (at 10 s) / {:.0} s (at 1 s)",
            batches * timeout_s,
            batches
        )
    };
    say(&format!(
        "  {label:<10} {:>14} / {:<16} {:>18} / {:<18} {}",
        ms(defaults.0),
        ms(defaults.1),
        ms(saturated.0),
        ms(saturated.1),
        before(10.0),
    ));
    db.pool.close().await;
    Ok(())
}

/// A listener that accepts connections and never answers.
async fn blackhole() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(format!("http://{addr}/hook"))
}

async fn endpoint(state: &AppState, tenant: i64, url: &str) -> Result<i64> {
    let (view, _) = store::webhooks::create(
        &state.db,
        &state.pepper,
        &state.settings.webhooks,
        tenant,
        &Actor::operator(),
        EndpointInput {
            url: url.to_owned(),
            description: String::new(),
            events: vec!["api_key.created".into()],
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("endpoint: {e}"))?;
    Ok(
        sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE public_id = $1")
            .bind(&view.id)
            .fetch_one(&state.db.pool)
            .await?,
    )
}

/// (median, max) milliseconds from B's key change to its delivery being recorded.
async fn scenario(
    db: &store::db::Db,
    pepper: &latchkey_domain::keys::Pepper,
    slots: usize,
    timeout: Duration,
) -> Result<(f64, f64)> {
    for table in [
        "webhook_attempts",
        "webhook_deliveries",
        "webhook_endpoints",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&db.pool)
            .await?;
    }
    let mut s = settings();
    s.webhooks.allow_private = true;
    s.webhooks.timeout = timeout;
    s.webhooks.poll = Duration::from_millis(50);
    s.webhooks.concurrency = slots;
    let state = AppState::new(db.clone(), s, pepper.clone());
    let a = crate::tenant_id(db, "acme").await?;
    let b = crate::tenant_id(db, "starter-studio").await?;
    let mut hooks = Vec::new();
    for _ in 0..BLACKHOLES {
        hooks.push(endpoint(&state, a, &blackhole().await?).await?);
    }
    let router = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let b_hook = endpoint(&state, b, &format!("{}/hook", serve(router).await?)).await?;
    let mut tx = db.pool.begin().await?;
    for _ in 0..EVENTS_PER_BLACKHOLE {
        store::webhooks::outbox::enqueue_to(
            &mut tx,
            db.clock.now_ms(),
            a,
            &hooks,
            latchkey_domain::webhooks::EventType::Created,
            serde_json::json!({}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("enqueue: {e}"))?;
    }
    tx.commit().await?;
    state.webhooks.wake();
    let busy = i64::try_from(slots.min(BLACKHOLES))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_flight(db).await? < busy {
        anyhow::ensure!(Instant::now() < deadline, "A's backlog never went out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut took = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let before = delivered(db, b_hook).await?;
        let started = Instant::now();
        make_key(&state, b, &format!("fairness {slots} {i}")).await?;
        state.webhooks.wake();
        while delivered(db, b_hook).await? == before {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "B's event was not delivered"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    drop(state);
    // The worker lives on until A's last attempt times out; let it end before the next run.
    tokio::time::sleep(timeout + Duration::from_millis(500)).await;
    Ok((took[took.len() / 2], *took.last().context("no samples")?))
}

async fn in_flight(db: &store::db::Db) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' \
         AND locked_until IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await?)
}

async fn delivered(db: &store::db::Db, endpoint: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_attempts WHERE endpoint_id = $1 AND status_code = 200",
    )
    .bind(endpoint)
    .fetch_one(&db.pool)
    .await?)
}
