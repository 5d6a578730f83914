//! A flood of `/v1/leaks` reports, each naming 100 well-formed keys that were never issued:
//! storage reads a second (the verifier's count of lookups that reached storage) and the p99 of
//! `/v1/whoami` with a valid key offered at a fixed rate meanwhile. "Unbounded" loosens the
//! leak gate (token budgets, reports in flight, failure gate) until it never refuses, which is
//! how reports were handled before it: one read per token, work spawned for every report.

use crate::{make_key, parse_wrk, say, serve, wrk_rate, ROTATE_LUA};
use anyhow::{Context, Result};
use latchkey_domain::keys::{self, Pepper};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Instant;
use store::db::Db;
use store::{AppState, Settings};

/// Posts the next body from a file (one JSON report a line), from the client address the
/// first argument's pattern makes of a counter: `v6` (a new /64 of one /48 each time) or `v4`
/// (a new IPv4 address each time).
const REPORT_LUA: &str = r#"
local bodies = {}
local n = 0
local mode = "v4"
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  mode = args[2]
  n = math.random(#bodies)
end
request = function()
  n = n + 1
  local ip
  if mode == "v6" then
    ip = string.format("2001:db8:77:%x::1", n % 65536)
  else
    ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = ip,
  }, bodies[(n % #bodies) + 1])
end
"#;

/// `n` reports of 100 distinct well-formed keys never issued (checksums valid).
fn write_bodies(path: &Path, n: usize) -> Result<()> {
    let mut out = String::with_capacity(n * 100 * 60);
    for _ in 0..n {
        let tokens: Vec<serde_json::Value> = (0..100)
            .map(|_| {
                let random = keys::random_base62(32);
                let sum = keys::checksum(random.as_bytes());
                let token = format!("lk_live_{random}{}", String::from_utf8_lossy(&sum));
                serde_json::json!({ "token": token, "url": "https://example.com/x" })
            })
            .collect();
        out.push_str(&serde_json::Value::from(tokens).to_string());
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

struct Figures {
    reports_per_sec: f64,
    reads_per_sec: f64,
    started: u64,
    whoami_p99_ms: f64,
}

async fn start(work: &Path, name: &str, unbounded: bool) -> Result<(AppState, String, String)> {
    let db = Db::connect(&format!("sqlite://{}/{name}.db", work.display())).await?;
    db.migrate().await?;
    store::demo::seed_demo(&db)
        .await
        .map_err(|e| anyhow::anyhow!("seed: {e}"))?;
    let pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect()).context("pepper")?;
    let mut settings = Settings {
        insecure_cookies: true,
        trusted_proxies: vec!["127.0.0.0/8".parse()?],
        ..Settings::default()
    };
    if unbounded {
        settings.leak_tokens_per_minute = u32::MAX / 16;
        settings.leak_reports_in_flight = 1 << 20;
        settings.failed_auth_per_minute = u32::MAX / 16;
    }
    let state = AppState::new(db.clone(), settings, pepper);
    if !state
        .verifier
        .wait_listening(std::time::Duration::from_secs(10))
        .await
    {
        anyhow::bail!("the invalidation listener did not start");
    }
    let acme = crate::tenant_id(&db, "acme").await?;
    let secret = make_key(&state, acme, "leak-flood").await?;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root("target/site")
        .build();
    let base = serve(server::router(state.clone(), options)).await?;
    Ok((state, base, secret))
}

/// Floods for `secs` while `/v1/whoami` is offered at `rate`.
fn flood(
    state: &AppState,
    base: &str,
    work: &Path,
    mode: &str,
    rate: f64,
    secs: u64,
) -> Result<Figures> {
    let lookups = || state.verifier.storage_lookups.load(Ordering::Relaxed);
    let (before, started_before, t0) = (lookups(), state.leaks.started(), Instant::now());
    let script = work.join("leak-report.lua");
    std::fs::write(&script, REPORT_LUA)?;
    let child = Command::new("wrk")
        .args(["-t1", "-c64", "--latency"])
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("{base}/v1/leaks"))
        .arg("--")
        .arg(work.join("leak-bodies.txt"))
        .arg(mode)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running wrk")?;
    let whoami = wrk_rate(
        base,
        &work.join("leak-whoami.lua"),
        &work.join("leak-valid.txt"),
        rate,
        8,
        secs,
    )?;
    let reports = parse_wrk(&String::from_utf8_lossy(&child.wait_with_output()?.stdout))?;
    let elapsed = t0.elapsed().as_secs_f64();
    Ok(Figures {
        reports_per_sec: reports.rps,
        reads_per_sec: (lookups() - before) as f64 / elapsed,
        started: state.leaks.started() - started_before,
        whoami_p99_ms: whoami.p99_ms,
    })
}

pub async fn run(work: &Path, secs: u64) -> Result<()> {
    write_bodies(&work.join("leak-bodies.txt"), 3_000)?;
    std::fs::write(work.join("leak-whoami.lua"), ROTATE_LUA)?;
    let rate = 200.0;
    say(&format!(
        "Leak-report flood, {secs} s each: wrk -c64 posting reports of 100 never-issued keys (500 ms floor), /v1/whoami offered at {rate:.0}/s"
    ));
    say("                                              reports/s  storage reads/s  reports started  whoami p99");
    for (label, unbounded, mode) in [
        ("unbounded (before), a new /64 each", true, "v6"),
        ("gate (after), a new /64 of one /48 each", false, "v6"),
        ("gate (after), a new IPv4 address each", false, "v4"),
    ] {
        let (state, base, secret) =
            start(work, &format!("leak-{mode}-{unbounded}"), unbounded).await?;
        std::fs::write(work.join("leak-valid.txt"), format!("{secret}\n"))?;
        let alone = wrk_rate(
            &base,
            &work.join("leak-whoami.lua"),
            &work.join("leak-valid.txt"),
            rate,
            8,
            secs.min(5),
        )?;
        let f = flood(&state, &base, work, mode, rate, secs)?;
        say(&format!(
            "  {label:<43} {:>9.0}  {:>15.0}  {:>15}  {} (alone {})",
            f.reports_per_sec,
            f.reads_per_sec,
            f.started,
            crate::ms(f.whoami_p99_ms),
            crate::ms(alone.p99_ms)
        ));
    }
    say("");
    Ok(())
}
