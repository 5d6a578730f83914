//! `make bench`: Latchkey's figures in one run, on this machine, with nothing mocked.
//!
//! 1. In-process verifications per second: cached, uncached (every lookup goes to SQLite), and
//!    junk rejected by the checksum.
//! 2. Loopback throughput with `wrk` against the real router (release build, SQLite):
//!    `/v1/whoami` with a valid key against `/healthz`; against a naive verifier that runs
//!    argon2id per request; and valid requests at a fixed rate alone and while ten times as
//!    many invalid keys arrive.
//!    Then floods with production throttles: RSS before/after, throttle sizes, and what a
//!    revoked key's flood writes to the database.
//! 3. The admin list server function at 1,000 and 100,000 keys in one tenant; then the audit log
//!    at a million events (`audit.rs`).
//!    Webhooks: what the outbox adds to a key change, a worker draining 2,000 events, and leak
//!    report answers with and without the timing floor (`webhooks.rs`).
//! 4. Sizes of the shipped wasm, js and css (raw, gzip, brotli); then, per page, the HTML and
//!    bundle bytes of a cold first load and its time to interactive in Chromium under
//!    Lighthouse's Slow 4G throttle (`pages.rs`, `end2end/bench/tti.mjs`).

use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use latchkey_domain::keys::{self, Digest, Mode, Pepper};
use latchkey_domain::{Plan, Role};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;
use store::db::{now_ms, Db};
use store::limits::Limits;
use store::verify::usage::UsageConfig;
use store::verify::{Verifier, VerifierConfig};
use store::{AppState, Settings};
use tower::ServiceExt;

mod audit;

// Requests allocate many small, short-lived buffers (headers, JSON, request-log rows) across
// threads; mimalloc's per-thread free lists cost less CPU there than glibc's malloc (see the
// note of the multi-replica issue for the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod engines;
mod floods;
mod host_client;
mod keys_list;
mod leak_flood;
mod pages;
mod passwords;
mod silent_sockets;
mod webhook_fairness;
mod webhooks;

#[derive(Debug, clap::Parser)]
#[command(about = "Latchkey's benchmark figures")]
struct Args {
    /// The built site (for the asset sizes).
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
    /// Seconds per loopback run.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Seconds per flood (sign-in, unknown keys, revoked key).
    #[arg(long, default_value_t = 60)]
    flood_seconds: u64,
    /// Run only the floods (their figures, not the rest).
    #[arg(long)]
    floods_only: bool,
    /// Run only the silent-socket figures (connections that send nothing).
    #[arg(long)]
    silent_sockets_only: bool,
    /// Run only the audit-log figures (a million events; on PostgreSQL too when
    /// `LATCHKEY_BENCH_POSTGRES_URL` is set).
    #[arg(long)]
    audit_only: bool,
    /// Run only the per-engine and per-rate-limit-store figures.
    #[arg(long)]
    engines_only: bool,
    /// Run only the concurrent password-change figure (needs the `latchkey` binary beside).
    #[arg(long)]
    passwords_only: bool,
    /// Run only the keys-list figures (1k and 100k keys, both engines).
    #[arg(long)]
    keys_list_only: bool,
    /// Run only the webhook and leak-report figures (both engines).
    #[arg(long)]
    webhooks_only: bool,
    /// Print only the shipped asset sizes.
    #[arg(long)]
    sizes_only: bool,
    /// Run only the per-page figures (Chromium under Slow 4G; needs node, Playwright and the
    /// `latchkey` binary beside).
    #[arg(long)]
    pages_only: bool,
    /// Run only the leak-report flood figures.
    #[arg(long)]
    leaks_only: bool,
    /// Run only the host-verifier figures (latchkey-client, forward-auth through nginx).
    #[arg(long)]
    client_only: bool,
    /// Concurrent connections for the throughput runs.
    #[arg(long, default_value_t = 32)]
    connections: u32,
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    use clap::Parser;
    let args = Args::parse();
    // One audit key for the whole run (each scenario's seed writes audit events before its
    // state exists); as in production, the chain's MACs are HMAC-SHA-256 under it.
    let audit_pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect());
    store::audit::seal::install(&audit_pepper.context("pepper")?);
    let work = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(&args, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Settings for the run: throttles high enough never to trip, so every request does full work.
fn settings() -> Settings {
    Settings {
        insecure_cookies: true,
        sign_in_per_email_per_minute: 1_000_000,
        sign_in_per_ip_per_minute: 1_000_000,
        limits: Limits {
            professional_rpm: 100_000_000,
            enterprise_rpm: 100_000_000,
        },
        ..Settings::default()
    }
}

async fn run(args: &Args, work: &Path) -> Result<()> {
    if args.silent_sockets_only {
        return silent_sockets::run(work, &args.site_root).await;
    }
    if args.floods_only {
        return floods::run(work, &args.site_root, args.flood_seconds).await;
    }
    if args.audit_only {
        return audit::run(work, &args.site_root).await;
    }
    if args.passwords_only {
        return passwords::run(work, &args.site_root).await;
    }
    if args.engines_only {
        return engines::run(work, &args.site_root, args.seconds, args.connections).await;
    }
    if args.keys_list_only {
        return keys_list::run(work, &args.site_root).await;
    }
    if args.sizes_only {
        return sizes(&args.site_root);
    }
    if args.pages_only {
        return pages::run(work, &args.site_root).await;
    }
    if args.webhooks_only {
        webhooks::run(work, &args.site_root).await?;
        return webhook_fairness::run(work).await;
    }
    if args.leaks_only {
        return leak_flood::run(work, args.seconds).await;
    }
    if args.client_only {
        return host_client::run(work, args.seconds, args.connections).await;
    }
    let db = Db::connect(&format!("sqlite://{}/bench.db", work.display())).await?;
    db.migrate().await?;
    store::demo::seed_demo(&db)
        .await
        .map_err(|e| anyhow::anyhow!("seed: {e}"))?;
    let pepper_bytes: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let pepper = Pepper::new(pepper_bytes.clone()).context("pepper")?;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(args.site_root.display().to_string())
        .build();
    let state = AppState::new(db.clone(), settings(), pepper.clone());
    // Cached figures need the cache trusted, i.e. the invalidation listener running.
    if !state
        .verifier
        .wait_listening(std::time::Duration::from_secs(10))
        .await
    {
        anyhow::bail!("the invalidation listener did not start");
    }
    let (acme, _) = store::tenants::by_slug(&db, "acme")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("acme")?;
    let secret = make_key(&state, acme, "bench").await?;

    say("Latchkey benchmark (release build, SQLite, this machine)\n");

    // 1. In-process verification.
    let cached = per_second(200_000, || state.verifier.verify(&secret, None)).await?;
    let uncached_verifier = uncached_verifier(&db, &pepper);
    let uncached = per_second(20_000, || uncached_verifier.verify(&secret, None)).await?;
    let mut junk = secret.clone();
    junk.replace_range(20..21, if &junk[20..21] == "A" { "B" } else { "A" });
    let rejected = {
        let started = Instant::now();
        let n = 1_000_000u32;
        for _ in 0..n {
            if state.verifier.verify(&junk, None).await.is_ok() {
                bail!("junk verified");
            }
        }
        f64::from(n) / started.elapsed().as_secs_f64()
    };
    say("In-process verification (one task)");
    say(&format!(
        "  cached (HMAC + cache + rules + rate limit)   {:>12.0} /s",
        cached
    ));
    say(&format!(
        "  uncached (HMAC + SQLite lookup each time)    {:>12.0} /s",
        uncached
    ));
    say(&format!(
        "  junk rejected by the checksum                {:>12.0} /s",
        rejected
    ));
    let argon = naive::verifications_per_second(&secret, 20)?;
    say(&format!(
        "  argon2id verify (crate defaults: 19 MiB, t=2) {:>11.1} /s",
        argon
    ));
    say(&format!(
        "  cached / argon2id                            {:>12.0}x\n",
        cached / argon
    ));

    // 2. Loopback throughput.
    let wrk_ok = Command::new("wrk").arg("--version").output().is_ok();
    if !wrk_ok {
        bail!("wrk is not installed (make bench installs it)");
    }
    let base = serve(server::router(state.clone(), options.clone())).await?;
    let naive = naive::serve(&secret).await?;
    let d = args.seconds;
    let c = args.connections;
    let auth = format!("Authorization: Bearer {secret}");
    // Warm up both paths (connections, caches, allocator).
    wrk(&base, "/healthz", None, 2, c, None)?;
    wrk(&base, "/v1/whoami", Some(&auth), 2, c, None)?;
    let health = wrk(&base, "/healthz", None, d, c, None)?;
    let whoami = wrk(&base, "/v1/whoami", Some(&auth), d, c, None)?;
    let argon = wrk(&naive, "/v1/whoami", Some(&auth), d, c.min(8), None)?;
    let ceiling = wrk(&naive, "/ping", None, d, c, None)?;
    say("Loopback throughput (wrk -t2, keep-alive; server and wrk share this machine's 2 cores)");
    say("                                                   req/s        p99   server CPU per request");
    for (label, r) in [
        ("/healthz (unauthenticated, pings the db)", health),
        ("/v1/whoami (valid key)", whoami),
        ("naive verifier, argon2id per request", argon),
        ("bare axum route, no work (the ceiling)", ceiling),
    ] {
        say(&format!(
            "  {label:<42} {:>10.1}  {:>9}  {}",
            r.rps,
            ms(r.p99_ms),
            ms(r.server_cpu_ms_per_req)
        ));
    }
    say(&format!(
        "  authenticated / unauthenticated throughput   {:>10.2}   (target >= 0.85)",
        whoami.rps / health.rps
    ));
    say(&format!(
        "  Latchkey / argon2-per-request throughput     {:>10.0}x  (target >= 1000; wrk's own CPU comes out of the fast side only)",
        whoami.rps / argon.rps.max(0.001)
    ));
    say(&format!(
        "  ceiling / argon2-per-request throughput      {:>10.0}x  (the most any verifier could show here)",
        ceiling.rps / argon.rps.max(0.001)
    ));
    say(&format!(
        "  Latchkey / argon2-per-request, server CPU    {:>10.0}x  (CPU the server spends per request)\n",
        argon.server_cpu_ms_per_req / whoami.server_cpu_ms_per_req.max(1e-9)
    ));

    // Valid requests at a fixed rate, alone and with ten times as many invalid keys arriving.
    let keys_file = work.join("flood-keys.txt");
    write_flood_keys(&keys_file, &secret, 300_000)?;
    let valid_file = work.join("valid-keys.txt");
    std::fs::write(&valid_file, format!("{secret}\n"))?;
    let script = work.join("rotate.lua");
    std::fs::write(&script, ROTATE_LUA)?;
    // Offered load: a twentieth of the measured capacity valid, ten times that invalid.
    let valid_rate = (whoami.rps / 20.0).max(50.0);
    let alone = wrk_rate(&base, &script, &valid_file, valid_rate, 8, d)?;
    let (with_flood, flood) = {
        let flood_child = spawn_wrk_rate(&base, &script, &keys_file, valid_rate * 10.0, 64, d)?;
        let valid = wrk_rate(&base, &script, &valid_file, valid_rate, 8, d)?;
        let out = flood_child.wait_with_output()?;
        (valid, parse_wrk(&String::from_utf8_lossy(&out.stdout))?)
    };
    say(&format!(
        "Valid requests offered at {valid_rate:.0}/s, then with {:.0}/s invalid keys (junk, bad checksums, unknown well-formed keys, each unknown one new)",
        valid_rate * 10.0
    ));
    say(&format!(
        "  valid alone                                  {:>12.0} req/s  p99 {}",
        alone.rps,
        ms(alone.p99_ms)
    ));
    say(&format!(
        "  valid under the flood                        {:>12.0} req/s  p99 {}",
        with_flood.rps,
        ms(with_flood.p99_ms)
    ));
    say(&format!(
        "  invalid answered during the flood            {:>12.0} req/s",
        flood.rps
    ));
    say(&format!(
        "  under flood / alone                          {:>12.2}   (target >= 0.8)\n",
        with_flood.rps / alone.rps
    ));

    engines::run(work, &args.site_root, d, c).await?;
    host_client::run(work, d, c).await?;
    floods::run(work, &args.site_root, args.flood_seconds).await?;
    silent_sockets::run(work, &args.site_root).await?;

    // 3. The admin list at 1k and 100k keys, on both engines.
    keys_list::run(work, &args.site_root).await?;

    audit::run(work, &args.site_root).await?;

    webhooks::run(work, &args.site_root).await?;
    webhook_fairness::run(work).await?;
    leak_flood::run(work, args.seconds).await?;
    passwords::run(work, &args.site_root).await?;

    // 4. Shipped asset sizes, then what each page's first load costs in a throttled browser.
    sizes(&args.site_root)?;
    pages::run(work, &args.site_root).await
}

/// The shipped bundle's sizes: the newest `pkg/<build id>/` (what an unstamped server picks, and
/// what `scripts/site.sh` just wrote), read from the precompressed copies the server sends.
fn sizes(site_root: &Path) -> Result<()> {
    let Some(bundle) = newest_bundle(&site_root.join("pkg")) else {
        say("Shipped assets: no bundle under pkg/ (build with `make build-release` first)\n");
        return Ok(());
    };
    say(&format!(
        "Shipped assets ({}; gzip -9 and brotli q11, as precompressed)",
        bundle.display()
    ));
    let size = |name: &str| -> Result<u64> {
        let path = bundle.join(name);
        Ok(std::fs::metadata(&path)
            .with_context(|| format!("{} missing", path.display()))?
            .len())
    };
    // kB of 1,000 bytes, the unit of the size check's budget (150 kB of wasm gzip).
    let kb = |n: u64| format!("{:>7.1} kB", n as f64 / 1000.0);
    // One wasm for the signed-in pages (`latchkey`) and one for the entry pages
    // (`latchkey-entry`: invite, reset, portal): what a page loads first is one of these.
    let mut names: Vec<String> = std::fs::read_dir(&bundle)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".wasm").map(str::to_owned))
        .collect();
    names.sort();
    for name in names {
        for (label, file) in [
            ("wasm", format!("{name}.wasm")),
            ("js", format!("{name}.js")),
        ] {
            say(&format!(
                "  {name:<18} {label:<5} raw {}   gzip {}   brotli {}",
                kb(size(&file)?),
                kb(size(&format!("{file}.gz"))?),
                kb(size(&format!("{file}.br"))?)
            ));
        }
    }
    let css = "latchkey.css";
    say(&format!(
        "  {css:<18} css   raw {}   gzip {}   brotli {}",
        kb(size(css)?),
        kb(size(&format!("{css}.gz"))?),
        kb(size(&format!("{css}.br"))?)
    ));
    say("");
    Ok(())
}

/// The most recently written bundle directory under `pkg`, the one holding `latchkey.js`.
fn newest_bundle(pkg: &Path) -> Option<PathBuf> {
    std::fs::read_dir(pkg)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("latchkey.js").is_file())
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, p)| p)
}

fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0} µs", v * 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

async fn per_second<F, Fut, T, E>(n: u32, mut f: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
    E: std::fmt::Debug,
{
    // One warm-up call fills the cache where there is one.
    if let Err(e) = f().await {
        bail!("verification failed: {e:?}");
    }
    let started = Instant::now();
    for _ in 0..n {
        if let Err(e) = f().await {
            bail!("verification failed: {e:?}");
        }
    }
    Ok(f64::from(n) / started.elapsed().as_secs_f64())
}

/// Runs `scenario` with the URL of a fresh PostgreSQL database on the server that
/// `LATCHKEY_BENCH_POSTGRES_URL` names, dropped afterwards; `false` (nothing run) when unset.
/// Runs `one` on a fresh SQLite file in `work`, then on a fresh PostgreSQL database when
/// `LATCHKEY_BENCH_POSTGRES_URL` names a server (else says it skipped), then a blank line.
async fn on_both_engines<F, Fut>(work: &Path, file: &str, one: F) -> Result<()>
where
    F: Fn(String, &'static str) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    one(format!("sqlite://{}/{file}", work.display()), "SQLite").await?;
    if !on_fresh_postgres(|url| one(url, "PostgreSQL")).await? {
        say("  PostgreSQL: skipped (set LATCHKEY_BENCH_POSTGRES_URL)");
    }
    say("");
    Ok(())
}

async fn on_fresh_postgres<F, Fut>(scenario: F) -> Result<bool>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let admin_url = std::env::var("LATCHKEY_BENCH_POSTGRES_URL").unwrap_or_default();
    if admin_url.is_empty() {
        return Ok(false);
    }
    let name = format!("lk_bench_{}", keys::random_base62(12).to_lowercase());
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .context("LATCHKEY_BENCH_POSTGRES_URL has no database name")?;
    let admin = Db::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin.pool)
        .await?;
    let result = scenario(format!("{base}/{name}")).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin.pool)
        .await?;
    admin.pool.close().await;
    result.map(|()| true)
}

/// A migrated database at `url` with the demo seeded, and a random pepper.
async fn seeded(url: &str) -> Result<(Db, Pepper)> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    store::demo::seed_demo(&db)
        .await
        .map_err(|e| anyhow::anyhow!("seed: {e}"))?;
    let pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect()).context("pepper")?;
    Ok((db, pepper))
}

/// A verifier without a cache: every verification reads storage.
fn uncached_verifier(db: &Db, pepper: &Pepper) -> Verifier {
    Verifier::new(
        db.clone(),
        Arc::new(pepper.clone()),
        VerifierConfig {
            cache_capacity: 0,
            limits: settings().limits,
            ..VerifierConfig::default()
        },
        UsageConfig::default(),
    )
}

async fn tenant_id(db: &Db, slug: &str) -> Result<i64> {
    Ok(store::tenants::by_slug(db, slug)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("tenant")?
        .0)
}

async fn make_key(state: &AppState, tenant_id: i64, name: &str) -> Result<String> {
    Ok(make_key_with_id(state, tenant_id, name).await?.1)
}

/// A `*` key of the tenant: its public id and its secret.
async fn make_key_with_id(
    state: &AppState,
    tenant_id: i64,
    name: &str,
) -> Result<(String, String)> {
    use latchkey_domain::views::NewKey;
    let (view, secret) = store::keys::create(
        &state.db,
        &state.pepper,
        &state.settings.scope_catalogue,
        tenant_id,
        Plan::Professional,
        &store::audit::Actor::operator(),
        NewKey {
            name: name.to_owned(),
            description: String::new(),
            mode: Some(Mode::Live),
            scopes: vec!["*".to_owned()],
            allowlist: String::new(),
            expires_on: String::new(),
            resources: Vec::new(),
        },
        None,
        None,
        &[],
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating a key: {e}"))?;
    Ok((view.id, secret.expose().to_owned()))
}

async fn serve(router: axum::Router) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(format!("http://{addr}"))
}

#[derive(Debug, Clone, Copy)]
struct WrkResult {
    rps: f64,
    p99_ms: f64,
    /// CPU this process (the servers; wrk is another process) spent per answered request.
    server_cpu_ms_per_req: f64,
}

/// User + system CPU seconds this process has used, from /proc (Linux; NaN elsewhere).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // Linux reports in USER_HZ, 100 on every mainstream configuration.
    (ticks(11) + ticks(12)) / 100.0
}

fn wrk(
    base: &str,
    path: &str,
    header: Option<&str>,
    seconds: u64,
    connections: u32,
    script: Option<&Path>,
) -> Result<WrkResult> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "--latency"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"));
    if let Some(h) = header {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(format!("{base}{path}"));
    let cpu_before = cpu_secs();
    let out = cmd.output().context("running wrk")?;
    let cpu = cpu_secs() - cpu_before;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed: {text}");
    }
    let mut r = parse_wrk(&text)?;
    r.server_cpu_ms_per_req = cpu * 1000.0 / (r.rps * seconds as f64).max(1.0);
    Ok(r)
}

fn rate_cmd(base: &str, script: &Path, keys: &Path, rate: f64, conns: u32, secs: u64) -> Command {
    // Each connection waits `delay` between requests: conns / delay ≈ the offered rate.
    let delay_ms = (f64::from(conns) * 1000.0 / rate).max(0.0);
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", "--latency"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(script)
        .arg(format!("{base}/v1/whoami"))
        .arg("--")
        .arg(keys)
        .arg(format!("{delay_ms:.3}"));
    cmd
}

fn wrk_rate(
    base: &str,
    script: &Path,
    keys: &Path,
    rate: f64,
    conns: u32,
    secs: u64,
) -> Result<WrkResult> {
    let out = rate_cmd(base, script, keys, rate, conns, secs)
        .output()
        .context("running wrk")?;
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

fn spawn_wrk_rate(
    base: &str,
    script: &Path,
    keys: &Path,
    rate: f64,
    conns: u32,
    secs: u64,
) -> Result<std::process::Child> {
    Ok(rate_cmd(base, script, keys, rate, conns, secs)
        .stdout(std::process::Stdio::piped())
        .spawn()?)
}

/// Rotates through the keys in a file, one `Authorization` header per request, with a delay.
const ROTATE_LUA: &str = r#"
local keys = {}
local i = 0
local pause = 0
init = function(args)
  for line in io.lines(args[1]) do keys[#keys + 1] = line end
  pause = tonumber(args[2]) or 0
  i = math.random(#keys)
end
request = function()
  i = i + 1
  if i > #keys then i = 1 end
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. keys[i] })
end
delay = function()
  return pause
end
"#;

fn parse_wrk(text: &str) -> Result<WrkResult> {
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{text}"))?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| parse_duration_ms(v.trim()))
        .unwrap_or(f64::NAN);
    Ok(WrkResult {
        rps,
        p99_ms,
        server_cpu_ms_per_req: f64::NAN,
    })
}

fn parse_duration_ms(v: &str) -> f64 {
    let num: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    if v.ends_with("us") {
        n / 1000.0
    } else if v.ends_with("ms") {
        n
    } else if v.ends_with('s') {
        n * 1000.0
    } else if v.ends_with('m') {
        n * 60_000.0
    } else {
        n
    }
}

/// Invalid keys, interleaved: junk, a bad checksum, and a well-formed key with a right checksum
/// that exists nowhere (each one new, so no cache can help with it).
fn write_flood_keys(path: &Path, valid: &str, n: usize) -> Result<()> {
    let mut out = String::with_capacity(n * 48);
    for i in 0..n {
        match i % 3 {
            0 => out.push_str(&format!("lk_live_{}", keys::random_base62(20))),
            1 => {
                let mut k = valid.to_owned();
                k.replace_range(8..40, &keys::random_base62(32));
                out.push_str(&k);
            }
            _ => {
                let random = keys::random_base62(32);
                let sum = keys::checksum(random.as_bytes());
                out.push_str("lk_live_");
                out.push_str(&random);
                out.push_str(std::str::from_utf8(&sum)?);
            }
        }
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// A tenant with `n` keys and an owner session, keys written straight into storage.
async fn bulk_tenant(
    state: &AppState,
    router: &axum::Router,
    slug: &str,
    n: u32,
) -> Result<(String, i64)> {
    use store::tenants::{add_member, create_tenant};
    let db = &state.db;
    let err = |e: store::AppError| anyhow::anyhow!("{e}");
    let tenant = create_tenant(db, slug, slug, Plan::Enterprise)
        .await
        .map_err(err)?;
    let email = format!("owner@{slug}.test");
    let user = store::auth::create_user(db, &email, "Bench Owner", "bench-password")
        .await
        .map_err(err)?;
    add_member(
        db,
        tenant,
        user,
        Role::Owner,
        &store::audit::Actor::named("bench"),
    )
    .await
    .map_err(err)?;
    let pepper = Pepper::new(vec![9; 32]).context("pepper")?;
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let mut i = 0u32;
    while i < n {
        let batch = (n - i).min(50);
        let mut sql = String::from(
            "INSERT INTO api_keys (public_id, tenant_id, name, description, mode, scopes, allowlist, \
             digest, hash_version, masked, status, created_at, created_by_name) VALUES ",
        );
        for j in 0..batch {
            let b = j * 6;
            if j > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, '', 'test', 'keys:read', '', ${}, 1, ${}, 'active', ${}, 'bench')",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
        }
        let mut q = sqlx::query(&sql);
        for j in 0..batch {
            let k = i + j;
            let secret = keys::generate(Mode::Test);
            q = q
                .bind(format!("key_{slug}_{k}"))
                .bind(tenant)
                .bind(format!("key {k}"))
                .bind(Digest::of(&pepper, secret.expose()).to_hex())
                .bind(secret.masked())
                .bind(now + i64::from(k));
        }
        q.execute(&mut *tx).await?;
        i += batch;
    }
    tx.commit().await?;
    let cookie = sign_in(router, &email, "bench-password").await?;
    Ok((cookie, tenant))
}

async fn sign_in(router: &axum::Router, email: &str, password: &str) -> Result<String> {
    let body = format!("email={}&password={password}", email.replace('@', "%40"));
    let req = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))?;
    let res = router.clone().oneshot(req).await?;
    if res.status() != StatusCode::OK {
        bail!("sign-in failed: {}", res.status());
    }
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lk_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("no session cookie")
}

/// The `before` cursor of a page near the end of the tenant's keys.
async fn deep_cursor(db: &Db, tenant: i64, n: u32) -> Result<i64> {
    use sqlx::Row;
    let row =
        sqlx::query("SELECT id FROM api_keys WHERE tenant_id = $1 ORDER BY id LIMIT 1 OFFSET $2")
            .bind(tenant)
            .bind(i64::from(n / 10))
            .fetch_one(&db.pool)
            .await?;
    Ok(row.try_get("id")?)
}

/// Median wall time of the list server function, in ms.
async fn time_list(
    router: &axum::Router,
    (cookie, tenant): (&str, i64),
    search: &str,
    before: Option<i64>,
    runs: usize,
) -> Result<f64> {
    let body = serde_json::json!({"tenant": tenant, "search": search, "include_revoked": false, "before": before})
        .to_string();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (status, bytes, ms) = call_server_fn(router, cookie, "/api/keys/list", &body).await?;
        times.push(ms);
        if status != StatusCode::OK {
            bail!("list failed: {status} {}", String::from_utf8_lossy(&bytes));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The strawman: what "hash API keys like passwords" costs. Keys are looked up by their
/// visible prefix (as such designs do), then argon2id-verified on the blocking pool, per request.
mod naive {
    use super::*;
    use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
    use argon2::{Argon2, PasswordVerifier};
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    use std::collections::HashMap;

    type Store = Arc<HashMap<String, String>>;

    /// argon2id verifications per second on one thread, with the parameters used for passwords.
    pub fn verifications_per_second(secret: &str, n: u32) -> Result<f64> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string();
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        for _ in 0..n {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(f64::from(n) / started.elapsed().as_secs_f64())
    }

    pub async fn serve(secret: &str) -> Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string();
        let mut store = HashMap::new();
        store.insert(secret[..16].to_owned(), phc);
        let router = axum::Router::new()
            .route("/v1/whoami", axum::routing::get(whoami))
            // The ceiling: the same HTTP stack answering with no work at all.
            .route("/ping", axum::routing::get(|| async { "ok" }))
            .with_state(Arc::new(store));
        super::serve(router).await
    }

    async fn whoami(State(store): State<Store>, headers: HeaderMap) -> axum::response::Response {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_owned();
        let Some(phc) = key.get(..16).and_then(|p| store.get(p)).cloned() else {
            return StatusCode::UNAUTHORIZED.into_response();
        };
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .map(|h| {
                    Argon2::default()
                        .verify_password(key.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if ok {
            axum::Json(serde_json::json!({"ok": true})).into_response()
        } else {
            StatusCode::UNAUTHORIZED.into_response()
        }
    }
}

/// One server-function call as the page makes it (JSON, the session cookie, same-origin):
/// the status, the body and the milliseconds it took.
async fn call_server_fn(
    router: &axum::Router,
    cookie: &str,
    path: &str,
    body: &str,
) -> Result<(StatusCode, axum::body::Bytes, f64)> {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "127.0.0.1")
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))?;
    let started = Instant::now();
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20).await?;
    Ok((status, bytes, started.elapsed().as_secs_f64() * 1000.0))
}
