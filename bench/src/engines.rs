//! Figures per engine and per rate-limit store: uncached verification (every lookup reads
//! storage) and `/v1/whoami` throughput on SQLite and PostgreSQL (when
//! `LATCHKEY_BENCH_POSTGRES_URL` names a server; a fresh database is created and dropped), the
//! whoami cost against the router's bare `/livez`, and whoami with `--rate-limit-store
//! redis://127.0.0.1:6379` when Redis answers there.

use super::{
    cpu_secs, make_key, ms, on_fresh_postgres, per_second, say, serve, settings, tenant_id,
    uncached_verifier, wrk,
};
use anyhow::Result;
use std::path::Path;
use std::time::Duration;
use store::{AppState, Settings};

const REDIS: &str = "redis://127.0.0.1:6379";

pub async fn run(work: &Path, site_root: &Path, seconds: u64, connections: u32) -> Result<()> {
    say("Per engine (release build; wrk -t2 on loopback, sharing the 2 cores)");
    say("server CPU per request in brackets; whoami/healthz: throughput ratio against the unauthenticated route");
    say("                              uncached verify/s   /v1/whoami req/s     /healthz req/s      /livez req/s  whoami/healthz");
    let sqlite = format!("sqlite://{}/engines.db", work.display());
    one(&sqlite, "SQLite", site_root, seconds, connections, None).await?;
    let ran = on_fresh_postgres(|url| async move {
        one(&url, "PostgreSQL", site_root, seconds, connections, None).await
    })
    .await?;
    if !ran {
        say("  PostgreSQL: skipped (set LATCHKEY_BENCH_POSTGRES_URL)");
    }
    if std::net::TcpStream::connect("127.0.0.1:6379").is_ok() {
        let url = format!("sqlite://{}/engines-redis.db", work.display());
        one(
            &url,
            "SQLite, Redis rate limits",
            site_root,
            seconds,
            connections,
            Some(REDIS),
        )
        .await?;
    } else {
        say("  Redis rate-limit store: skipped (nothing answers on 127.0.0.1:6379)");
    }
    say("");
    Ok(())
}

async fn one(
    url: &str,
    label: &str,
    site_root: &Path,
    seconds: u64,
    connections: u32,
    rate_store: Option<&str>,
) -> Result<()> {
    let (db, pepper) = super::seeded(url).await?;
    let state = AppState::new(
        db.clone(),
        Settings {
            rate_limit_store: rate_store.map(str::to_owned),
            ..settings()
        },
        pepper.clone(),
    );
    if !state.verifier.wait_listening(Duration::from_secs(10)).await {
        anyhow::bail!("{label}: the invalidation listener did not start");
    }
    let acme = tenant_id(&db, "acme").await?;
    let secret = make_key(&state, acme, "bench").await?;
    let uncached_verifier = uncached_verifier(&db, &pepper);
    let uncached = per_second(5_000, || uncached_verifier.verify(&secret, None)).await?;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let base = serve(server::router(state.clone(), options)).await?;
    let auth = format!("Authorization: Bearer {secret}");
    wrk(&base, "/livez", None, 2, connections, None)?;
    wrk(&base, "/healthz", None, 2, connections, None)?;
    wrk(&base, "/v1/whoami", Some(&auth), 2, connections, None)?;
    let live = wrk(&base, "/livez", None, seconds, connections, None)?;
    let health = wrk(&base, "/healthz", None, seconds, connections, None)?;
    // The warm-up's usage is written before the measured run, and the run's own (up to a
    // flush interval's worth still queued when wrk stops) inside its CPU window.
    state.verifier.usage.flush().await;
    let cpu_before = cpu_secs();
    let mut whoami = wrk(&base, "/v1/whoami", Some(&auth), seconds, connections, None)?;
    state.verifier.usage.flush().await;
    whoami.server_cpu_ms_per_req =
        (cpu_secs() - cpu_before) * 1000.0 / (whoami.rps * seconds as f64).max(1.0);
    let cell = |r: &super::WrkResult| format!("{:.0} ({})", r.rps, ms(r.server_cpu_ms_per_req));
    say(&format!(
        "  {label:<26} {uncached:>16.0}   {:>16}   {:>16}  {:>16}  {:>14.2}",
        cell(&whoami),
        cell(&health),
        cell(&live),
        whoami.rps / health.rps.max(1e-9)
    ));
    db.pool.close().await;
    Ok(())
}
