//! What floods cost a server with production throttles: this process's RSS (the server runs
//! in-process; wrk is another process) before and after each flood, the throttles' sizes, and
//! what a revoked key hammering the API writes to the database. Figures, not assertions: the
//! bounds themselves are asserted in `server/tests/abuse.rs`.

use crate::{make_key, say, serve, write_flood_keys, ROTATE_LUA};
use anyhow::{Context, Result};
use latchkey_domain::keys::Pepper;
use std::path::Path;
use std::process::Command;
use store::db::Db;
use store::{AppState, Settings};

/// Sign-in attempts with a new 254-byte email each, from a new client address each (through a
/// trusted proxy), so every throttle map sees a new key on every request.
const SIGN_IN_LUA: &str = r#"
local n = 0
request = function()
  n = n + 1
  local email = string.rep("x", 230) .. string.format("%08d", n) .. "@flood.example"
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", "/api/sign_in", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
    ["Sec-Fetch-Site"] = "same-origin",
    ["X-Forwarded-For"] = ip,
  }, "email=" .. email .. "&password=not-the-password")
end
"#;

/// A revoked key on a path of 4 KiB, each one different.
const REVOKED_LUA: &str = r#"
local key = ""
local n = 0
init = function(args) key = args[1] end
request = function()
  n = n + 1
  local path = "/v1/keys/" .. string.rep("p", 4096) .. n
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. key })
end
"#;

fn proc_field(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_mib() -> f64 {
    proc_field("/proc/self/status", "VmRSS:") as f64 / 1024.0
}

fn written_bytes() -> u64 {
    proc_field("/proc/self/io", "write_bytes:")
}

fn db_bytes(work: &Path) -> u64 {
    ["floods.db", "floods.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(work.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Runs wrk closed-loop (as fast as the server answers) for `secs`; returns requests answered.
fn flood(base: &str, path: &str, script: &Path, args: &[&str], secs: u64) -> Result<f64> {
    let out = Command::new("wrk")
        .args(["-t1", "-c32"])
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(script)
        .arg(format!("{base}{path}"))
        .arg("--")
        .args(args)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0))
}

pub async fn run(work: &Path, site_root: &Path, secs: u64) -> Result<()> {
    let db = Db::connect(&format!("sqlite://{}/floods.db", work.display())).await?;
    db.migrate().await?;
    store::demo::seed_demo(&db)
        .await
        .map_err(|e| anyhow::anyhow!("seed: {e}"))?;
    let pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect()).context("pepper")?;
    // Production throttles; the flood's proxy is trusted so each request can be a new client.
    let settings = Settings {
        insecure_cookies: true,
        trusted_proxies: vec!["127.0.0.0/8".parse()?],
        ..Settings::default()
    };
    let state = AppState::new(db.clone(), settings, pepper);
    // Cached figures need the cache trusted, i.e. the invalidation listener running.
    if !state
        .verifier
        .wait_listening(std::time::Duration::from_secs(10))
        .await
    {
        anyhow::bail!("the invalidation listener did not start");
    }
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let base = serve(server::router(state.clone(), options)).await?;
    say(&format!(
        "Floods, {secs} s each, production throttles (RSS of this process, which serves)"
    ));

    let script = work.join("sign-in.lua");
    std::fs::write(&script, SIGN_IN_LUA)?;
    let before = rss_mib();
    let n = flood(&base, "/api/sign_in", &script, &[], secs)?;
    state.sign_in.housekeeping();
    let (ips, emails, failed) = state.sign_in.sizes();
    say(&format!(
        "  sign-in, new 254-byte email and client each: {n:>9.0} answered  RSS {before:.1} -> {:.1} MiB  throttles hold {ips} clients, {emails} emails, {failed} failed clients",
        rss_mib()
    ));

    let acme = crate::tenant_id(&db, "acme").await?;
    let keys_file = work.join("flood-unknown.txt");
    let valid = make_key(&state, acme, "flood").await?;
    write_flood_keys(&keys_file, &valid, 300_000)?;
    let script = work.join("rotate.lua");
    std::fs::write(&script, ROTATE_LUA)?;
    let keys_arg = keys_file.display().to_string();
    let before = rss_mib();
    let n = flood(&base, "/v1/whoami", &script, &[&keys_arg, "0"], secs)?;
    state.verifier.housekeeping();
    let (limited, blocked) = state.verifier.failure_throttle_sizes();
    say(&format!(
        "  unknown and junk keys, one client:           {n:>9.0} answered  RSS {before:.1} -> {:.1} MiB  failure throttle holds {limited} clients, {blocked} blocked",
        rss_mib()
    ));

    let revoked = make_key(&state, acme, "revoked").await?;
    let query = store::keys::KeyQuery {
        search: "revoked",
        limit: 1,
        ..Default::default()
    };
    let (keys, _) = store::keys::list(&state.db, acme, &query)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = keys
        .first()
        .map(|k| k.id.clone())
        .context("the revoked key")?;
    store::keys::revoke(
        &state.db,
        acme,
        &store::audit::Actor::operator(),
        &id,
        "bench",
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.verifier.forget_key(acme, &id).await;
    state.verifier.usage.flush().await;
    let script = work.join("revoked.lua");
    std::fs::write(&script, REVOKED_LUA)?;
    let (before, db_before, io_before) = (rss_mib(), db_bytes(work), written_bytes());
    let n = flood(&base, "/v1/keys/x", &script, &[&revoked], secs)?;
    state.verifier.usage.flush().await;
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_logs r JOIN api_keys k ON k.id = r.key_id WHERE k.public_id = $1",
    )
    .bind(&id)
    .fetch_one(&db.pool)
    .await?;
    say(&format!(
        "  revoked key, 4 KiB paths:                    {n:>9.0} answered  RSS {before:.1} -> {:.1} MiB  {rows} request-log rows, database +{} KiB, {} KiB written to disk\n",
        rss_mib(),
        db_bytes(work).saturating_sub(db_before) / 1024,
        written_bytes().saturating_sub(io_before) / 1024
    ));
    Ok(())
}
