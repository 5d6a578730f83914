//! The audit log at a million events in one tenant, on SQLite and (when
//! `LATCHKEY_BENCH_POSTGRES_URL` names a server) on a fresh PostgreSQL database: sealing the
//! events into the hash chain, the CSV export of all of them (throughput and this process's
//! memory while it streams), and the Audit log page's server function through the real router,
//! unfiltered, deep, and with each kind of filter.

use crate::{make_key, ms, on_fresh_postgres, say, settings, sign_in};
use anyhow::{bail, Context, Result};
use axum::body::{Body, HttpBody};
use axum::http::StatusCode;
use latchkey_domain::keys::Pepper;
use latchkey_domain::time::format_date;
use std::path::Path;
use std::time::Instant;
use store::audit::{Actor, AuditAction, AuditFilter};
use store::db::{now_ms, Db, Engine};
use store::AppState;

const EVENTS: u64 = 1_000_000;
/// Events per `append_many` call, each one transaction.
const BATCH: u64 = 20_000;
/// Distinct key ids the events are about.
const KEYS: u64 = 2_000;
const DAY_MS: i64 = 86_400_000;
const SPAN_DAYS: i64 = 180;
/// Calls per list case.
const RUNS: usize = 200;
const KEY_NAME: &str = "audit bench key";

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    let sqlite = format!("sqlite://{}/audit.db", work.display());
    one_engine(&sqlite, "SQLite", site_root).await?;
    let ran =
        on_fresh_postgres(|url| async move { one_engine(&url, "PostgreSQL", site_root).await })
            .await?;
    if !ran {
        say("Audit log on PostgreSQL: skipped (set LATCHKEY_BENCH_POSTGRES_URL)\n");
    }
    Ok(())
}

async fn one_engine(url: &str, label: &str, site_root: &Path) -> Result<()> {
    let err = |e: store::AppError| anyhow::anyhow!("{e}");
    let db = Db::connect(url).await?;
    db.migrate().await?;
    store::demo::seed_demo(&db).await.map_err(err)?;
    let pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect()).context("pepper")?;
    let state = AppState::new(db.clone(), settings(), pepper);
    let acme = crate::tenant_id(&db, "acme").await?;
    make_key(&state, acme, KEY_NAME).await?;
    let key: String =
        sqlx::query_scalar("SELECT public_id FROM api_keys WHERE tenant_id = $1 AND name = $2")
            .bind(acme)
            .bind(KEY_NAME)
            .fetch_one(&db.pool)
            .await?;

    say(&format!(
        "Audit log, {EVENTS} events in one tenant ({label}, release build, this machine)"
    ));
    let started = Instant::now();
    let first_at = seed(&db, acme, &key).await?;
    let secs = started.elapsed().as_secs_f64();
    say(&format!(
        "  sealed into the chain, {BATCH} a transaction {secs:>9.1} s  {:>10.0} events/s",
        EVENTS as f64 / secs
    ));
    let started = Instant::now();
    match db.engine {
        Engine::Sqlite => sqlx::query("ANALYZE").execute(&db.pool).await?,
        Engine::Postgres => {
            sqlx::query("ANALYZE audit_events")
                .execute(&db.pool)
                .await?
        }
    };
    say(&format!(
        "  ANALYZE                                   {:>9.1} s",
        started.elapsed().as_secs_f64()
    ));

    export(&db, acme).await?;

    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let router = server::router(state.clone(), options);
    let cookie = sign_in(&router, "owner@acme.test", store::demo::DEMO_PASSWORD).await?;
    let deep: i64 = sqlx::query_scalar(
        "SELECT id FROM audit_events WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1 OFFSET 900000",
    )
    .bind(acme)
    .fetch_one(&db.pool)
    .await?;
    let week_from = first_at + 40 * DAY_MS;
    let (from, to) = (format_date(week_from), format_date(week_from + 6 * DAY_MS));
    let rolled = AuditAction::KeyRolled.as_str();
    let q = |field: &str, value: &str| serde_json::json!({ field: value });
    let cases = [
        ("first page, no filter", q("key", ""), None),
        ("deep page (900,000 events down)", q("key", ""), Some(deep)),
        (
            "action (api_key.rolled, 0.5% of events)",
            q("action", rolled),
            None,
        ),
        ("key by id (~500 of its events)", q("key", &key), None),
        ("key by name", q("key", KEY_NAME), None),
        (
            "one week, 140 days back",
            serde_json::json!({ "from": from, "to": to }),
            None,
        ),
    ];
    say(&format!(
        "  Audit log page, owner session, through the router ({RUNS} calls each)"
    ));
    say(&format!(
        "    {:<42} {:>4}  {:>9}  {:>9}",
        "", "rows", "p50", "p99"
    ));
    for (name, query, before) in cases {
        let (p50, p99, rows) = time_page(&router, &cookie, acme, query, before).await?;
        let over = if p50 > 10.0 {
            "  over the 10 ms target"
        } else {
            ""
        };
        say(&format!(
            "    {name:<42} {rows:>4}  {:>9}  {:>9}{over}",
            ms(p50),
            ms(p99)
        ));
    }
    say("");
    db.pool.close().await;
    Ok(())
}

/// A 64-bit mix of `i` (splitmix64): the same events every run, no state to carry.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The people and systems acting, one per `append_many` call in turn.
async fn actors(db: &Db) -> Result<Vec<Actor>> {
    let mut v = Vec::new();
    for (n, (email, name)) in [
        ("owner@acme.test", "Olivia Owner"),
        ("admin@acme.test", "Adam Admin"),
        ("consultant@example.test", "Casey Consultant"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = store::auth::user_id_by_email(db, email)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context("demo user")?;
        let ip = format!("203.0.113.{}", 10 + n).parse()?;
        v.push(Actor::user(id, name, email, Some(ip)));
    }
    v.push(Actor::api_key("key_automation01", "deploys", None));
    v.push(Actor::api_key("key_automation02", "rotation job", None));
    for name in [
        "operator",
        "terraform",
        "ci-deploy",
        "scim-sync",
        "backstage",
    ] {
        v.push(Actor::named(name));
    }
    Ok(v)
}

type Item = (i64, AuditAction, Option<String>, serde_json::Value);

/// Event `i` of the million: its time (strictly increasing over the span), action, key, details.
/// Every `KEYS`th event is about the real key, so it has about `EVENTS / KEYS` of them.
fn event(i: u64, first_at: i64, step: i64, real_key: &str) -> Item {
    use AuditAction::*;
    let r = mix(i);
    let at = first_at + i64::try_from(i).unwrap_or(0) * step + (r % 1000) as i64 * step / 1000;
    let k = (r >> 16) % KEYS;
    let key = if i.is_multiple_of(KEYS) {
        real_key.to_owned()
    } else {
        format!("key_bench{k:04}")
    };
    let name = format!("service key {k}");
    let action = match (r >> 40) % 1000 {
        0..=4 => KeyRolled,
        5..=554 => KeyUpdated,
        555..=754 => KeyCreated,
        755..=804 => KeyDisabled,
        805..=854 => KeyEnabled,
        855..=904 => KeyRevoked,
        _ if i.is_multiple_of(KEYS) => KeyUpdated,
        _ => SignedIn,
    };
    let details = match action {
        KeyCreated => serde_json::json!({"name": name, "mode": "live",
            "scopes": ["keys:read", "usage:read"], "allowlist": []}),
        KeyUpdated => serde_json::json!({"name": name, "changes": {"description":
            {"from": format!("build {}", r % 97), "to": format!("build {}", r % 89)}}}),
        KeyRevoked => serde_json::json!({"name": name, "reason": "rotated out"}),
        KeyRolled => {
            serde_json::json!({"name": name, "new_key": format!("key_bench{:04}", (k + 1) % KEYS),
            "overlap": "24h"})
        }
        SignedIn => return (at, action, None, serde_json::json!({"method": "password"})),
        _ => serde_json::json!({"name": name}),
    };
    (at, action, Some(key), details)
}

/// Seals `EVENTS` events into the tenant's chain, `BATCH` per transaction, starting just after
/// the chain's head (an event is never earlier than the one before it, and the demo seed wrote
/// its events just now, so the span runs from now to 180 days on). Returns the first event's time.
async fn seed(db: &Db, tenant: i64, real_key: &str) -> Result<i64> {
    let actors = actors(db).await?;
    let first_at = now_ms() + 60_000;
    let step = SPAN_DAYS * DAY_MS / EVENTS as i64;
    for b in 0..EVENTS / BATCH {
        let actor = &actors[b as usize % actors.len()];
        let items = (b * BATCH..(b + 1) * BATCH).map(|i| event(i, first_at, step, real_key));
        let n = store::audit::chain::append_many(db, tenant, actor, items)
            .await
            .map_err(|e| anyhow::anyhow!("append_many: {e}"))?;
        if n != BATCH {
            bail!("append_many sealed {n} of {BATCH}");
        }
    }
    Ok(first_at)
}

/// `VmRSS` and `VmHWM` of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The whole tenant as CSV through `csv_stream`, as `/audit/export.csv` streams it, sampling
/// RSS at every chunk (a thousand rows).
async fn export(db: &Db, tenant: i64) -> Result<()> {
    let (rss_before, hwm_before) = memory();
    let stream = store::audit::export::csv_stream(db.clone(), tenant, AuditFilter::default());
    let mut body = Body::from_stream(stream);
    let (mut bytes, mut lines, mut peak) = (0usize, 0usize, rss_before);
    let started = Instant::now();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| anyhow::anyhow!("export: {e}"))?;
        if let Ok(data) = frame.into_data() {
            bytes += data.len();
            lines += data.iter().filter(|&&b| b == b'\n').count();
        }
        peak = peak.max(memory().0);
    }
    let secs = started.elapsed().as_secs_f64();
    let (rss_after, hwm_after) = memory();
    let rows = lines.saturating_sub(1);
    if (rows as u64) < EVENTS {
        bail!("the export held {rows} rows");
    }
    say(&format!(
        "  CSV export of all {rows} rows ({:.0} MB)  {secs:>6.1} s  {:>10.0} rows/s  {:>6.1} MB/s",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    ));
    say(&format!(
        "  RSS during the export: {rss_before:.1} MiB before, at most {peak:.1} MiB (+{:.1}), \
         {rss_after:.1} after; VmHWM {hwm_before:.1} -> {hwm_after:.1} MiB",
        peak - rss_before
    ));
    Ok(())
}

/// p50 and p99 wall time (ms) of the page's server function for one query, and its rows.
async fn time_page(
    router: &axum::Router,
    cookie: &str,
    tenant: i64,
    query: serde_json::Value,
    before: Option<i64>,
) -> Result<(f64, f64, usize)> {
    let mut full = serde_json::json!({"key": "", "actor": "", "action": "", "from": "", "to": ""});
    if let (Some(full), Some(q)) = (full.as_object_mut(), query.as_object()) {
        full.extend(q.clone());
    }
    let body =
        serde_json::json!({"tenant": tenant, "query": full, "before": before, "after": null})
            .to_string();
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for run in 0..RUNS + 5 {
        let (status, bytes, elapsed) =
            crate::call_server_fn(router, cookie, "/api/audit/list", &body).await?;
        if status != StatusCode::OK {
            bail!(
                "audit list failed: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        // The first few calls warm the statement cache and the pool.
        if run >= 5 {
            times.push(elapsed);
        } else {
            let page: serde_json::Value = serde_json::from_slice(&bytes)?;
            rows = page["rows"].as_array().map_or(0, Vec::len);
        }
    }
    if rows == 0 {
        bail!("audit list returned no rows for {body}");
    }
    times.sort_by(f64::total_cmp);
    Ok((times[RUNS / 2], times[RUNS * 99 / 100], rows))
}
