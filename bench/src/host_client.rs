//! Verifying where the traffic is (`--client-only`): the `latchkey-client` verifier in process
//! (cached verifications a second), a revocation reaching a connected client (p50/p99/max of
//! 50 rounds, on each engine), a host API on the client against the same API asking
//! `/v1/verify` on every request, and nginx `auth_request` through `/v1/authz` against the same
//! upstream without it (when nginx is installed).

use super::{make_key, ms, on_both_engines, say, serve, settings, tenant_id, wrk};
use anyhow::{bail, Context, Result};
use axum::routing::get;
use latchkey_client::{RateLimit, RequireKey, Verdict, Verifier};
use sha2::Digest as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use store::AppState;

const TOKEN: &str = "bench-service-token-0123456789abcdefghij";

fn with_token() -> store::Settings {
    let mut s = settings();
    s.service_token_sha256 = Some(sha2::Sha256::digest(TOKEN.as_bytes()).into());
    // `GET /payments/*=keys:read`, as `--authz-rule` would give it.
    s.gateway.authz_rules = vec![latchkey_domain::authz::AuthzRule {
        method: Some("GET".into()),
        pattern: "/payments/*".into(),
        scope: "keys:read".into(),
    }];
    s
}

/// Latchkey's router on SQLite at `url`, served on loopback, with a `*` key of Acme.
async fn latchkey(url: &str) -> Result<(AppState, String, String)> {
    let (db, pepper) = super::seeded(url).await?;
    let state = AppState::new(db.clone(), with_token(), pepper);
    if !state.verifier.wait_listening(Duration::from_secs(10)).await {
        bail!("the invalidation listener did not start");
    }
    let acme = tenant_id(&db, "acme").await?;
    let secret = make_key(&state, acme, "bench").await?;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .build();
    let base = serve(server::router(state.clone(), options)).await?;
    Ok((state, base, secret))
}

async fn connected(base: &str, rate_limit: RateLimit, usage: bool) -> Result<Verifier> {
    let v = Verifier::builder(base, TOKEN)
        .rate_limit(rate_limit)
        .usage(usage, Duration::from_secs(1), 10_000)
        .build()?;
    if !v.wait_connected(Duration::from_secs(10)).await {
        bail!("the client's change stream did not connect");
    }
    Ok(v)
}

pub async fn run(work: &Path, seconds: u64, connections: u32) -> Result<()> {
    say("Verifying in the host (latchkey-client; release build, 2 cores shared with the server)");
    let url = format!("sqlite://{}/client.db", work.display());
    let (state, base, secret) = latchkey(&url).await?;

    // 1. Cached verifications a second, in process.
    for (label, usage) in [("usage reporting off", false), ("usage reporting on", true)] {
        let v = connected(&base, RateLimit::Local, usage).await?;
        v.verify(&secret, Some("keys:read"), None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let n = 2_000_000u32;
        let started = Instant::now();
        for _ in 0..n {
            if v.check(&secret, Some("keys:read"), None, "GET", "/payments/1")
                .await
                .is_err()
            {
                bail!("a cached verification was refused");
            }
        }
        let rate = f64::from(n) / started.elapsed().as_secs_f64();
        say(&format!(
            "  cached verify, one task, {label:<20} {rate:>12.0}/s   (goal >= 1,000,000/s)"
        ));
    }

    // 2. A host API: the client in process against /v1/verify on every request.
    let auth = format!("Authorization: Bearer {secret}");
    let mut rows = Vec::new();
    for (label, mode) in [
        ("host API, client cache", RateLimit::Local),
        ("host API, /v1/verify each", RateLimit::Remote),
    ] {
        let v = connected(&base, mode, true).await?;
        let host = axum::Router::new().route(
            "/payments/{id}",
            get(|verdict: Verdict| async move { verdict.key_id })
                .layer(RequireKey::scope("keys:read").with(v.clone())),
        );
        let host_base = serve(host).await?;
        wrk(&host_base, "/payments/1", Some(&auth), 2, connections, None)?;
        let r = wrk(
            &host_base,
            "/payments/1",
            Some(&auth),
            seconds,
            connections,
            None,
        )?;
        rows.push((label, r));
    }
    for (label, r) in &rows {
        say(&format!(
            "  {label:<34} {:>12.0} req/s  p99 {}",
            r.rps,
            ms(r.p99_ms)
        ));
    }
    say(&format!(
        "  client / remote                    {:>12.2}x",
        rows[0].1.rps / rows[1].1.rps.max(1e-9)
    ));
    state.verifier.usage.flush().await;

    // 3. nginx auth_request through /v1/authz, against the same upstream unguarded.
    nginx_figures(work, &base, &secret, seconds, connections)?;
    state.db.pool.close().await;

    // 4. A revocation reaching a connected client, on each engine.
    say("  revocation reaching a connected client (revoke committed -> refused in the host; 50 rounds)");
    on_both_engines(work, "client-revoke.db", |url, label| async move {
        revocation(&url, label).await
    })
    .await
}

async fn revocation(url: &str, label: &str) -> Result<()> {
    let (state, base, _) = latchkey(url).await?;
    let v = connected(&base, RateLimit::Local, false).await?;
    let acme = tenant_id(&state.db, "acme").await?;
    let mut took = Vec::new();
    for i in 0..50 {
        let (id, secret) = super::make_key_with_id(&state, acme, &format!("revoke {i}")).await?;
        v.verify(&secret, Some("keys:read"), None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Through storage directly, as the CLI or another replica would: no in-process shortcut.
        store::keys::revoke(&state.db, acme, &store::audit::Actor::operator(), &id, "")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let since = Instant::now();
        while v.verify(&secret, Some("keys:read"), None).await.is_ok() {
            if since.elapsed() > Duration::from_secs(2) {
                bail!("{label}: still allowed after 2 s");
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        took.push(since.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    say(&format!(
        "  {label:<10} p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    ));
    state.db.pool.close().await;
    Ok(())
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_figures(
    work: &Path,
    latchkey: &str,
    secret: &str,
    seconds: u64,
    connections: u32,
) -> Result<()> {
    let Some(bin) = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        say("  nginx auth_request: skipped (no nginx; `make test` installs Debian's)\n");
        return Ok(());
    };
    let dir = work.join("nginx");
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let upstream = free_port()?;
    let d = dir.display();
    let lk = latchkey.trim_start_matches("http://");
    let conf = format!(
        r#"worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    upstream latchkey {{ server {lk}; keepalive 64; }}
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location = /_latchkey {{
            internal;
            proxy_pass http://latchkey/v1/authz?limit_status=403;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Method $request_method;
            proxy_set_header X-Forwarded-Uri $request_uri;
        }}
        location /payments/ {{
            auth_request /_latchkey;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
        location /open/ {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
    }}
    server {{ listen 127.0.0.1:{upstream}; location / {{ return 200 "ok\n"; }} }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let _nginx = Nginx(
        Command::new(bin)
            .args(["-e", &format!("{d}/error.log"), "-p", &d.to_string()])
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?,
    );
    let front = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nginx did not start: see {d}/error.log");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let auth = format!("Authorization: Bearer {secret}");
    wrk(&front, "/payments/1", Some(&auth), 2, connections, None)?;
    let open = wrk(&front, "/open/1", Some(&auth), seconds, connections, None)?;
    let guarded = wrk(
        &front,
        "/payments/1",
        Some(&auth),
        seconds,
        connections,
        None,
    )?;
    say(&format!(
        "  nginx, no auth                     {:>12.0} req/s  p99 {}",
        open.rps,
        ms(open.p99_ms)
    ));
    say(&format!(
        "  nginx, auth_request /v1/authz      {:>12.0} req/s  p99 {}  (added p99 {})",
        guarded.rps,
        ms(guarded.p99_ms),
        ms((guarded.p99_ms - open.p99_ms).max(0.0))
    ));
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
