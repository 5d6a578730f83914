//! 64 concurrent password changes from one signed-in viewer against a running server (the
//! `latchkey` binary beside this one, as its own process): the server's peak RSS (VmHWM) and
//! how many changes were answered 429. Before the hashing gate (issue 23, item 3) 48 such
//! changes took a server from 70 to 941 MiB and none was refused; 512 were about 10 GiB.

use crate::say;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHANGES: usize = 64;
const VIEWER: &str = "viewer@acme.test";

/// The server binary: `LATCHKEY_BIN`, else `latchkey` beside this executable.
fn server_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("LATCHKEY_BIN") {
        return Ok(PathBuf::from(p));
    }
    let me = std::env::current_exe().context("locating the bench binary")?;
    let path = me.with_file_name("latchkey");
    if !path.exists() {
        bail!("no server binary at {} (set LATCHKEY_BIN)", path.display());
    }
    Ok(path)
}

/// A kB figure from /proc/<pid>/status, in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
        / 1024.0
}

/// Stops the server when the figure is done, also on an early return.
pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The demo server in its own process on a free port, with its database `<work>/<db>.db` and any
/// `extra` serve flags, once it answers; its base URL.
pub(crate) async fn start(
    work: &Path,
    site_root: &Path,
    db: &str,
    extra: &[&str],
) -> Result<(Server, String)> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let child = Command::new(server_binary()?)
        .arg("--database-url")
        .arg(format!("sqlite://{}/{db}.db", work.display()))
        .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--site-root")
        .arg(site_root)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server did not answer within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, base))
}

async fn sign_in(client: &reqwest::Client, base: &str) -> Result<String> {
    let res = client
        .post(format!("{base}/api/sign_in"))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[("email", VIEWER), ("password", store::demo::DEMO_PASSWORD)])
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("sign-in failed: {}", res.status());
    }
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lk_session=") || c.starts_with("__Host-lk_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("no session cookie")
}

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    let (server, base) = start(work, site_root, "passwords", &[]).await?;
    let pid = server.0.id();
    let client = reqwest::Client::new();
    let cookie = sign_in(&client, &base).await?;
    let before = status_mib(pid, "VmRSS:");
    // The same password back: every change that gets its turns succeeds, and none spends the
    // wrong-current-password budget.
    let body = serde_json::json!({
        "current_password": store::demo::DEMO_PASSWORD,
        "new_password": store::demo::DEMO_PASSWORD,
    })
    .to_string();
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..CHANGES {
        let request = client
            .post(format!("{base}/api/account/change_password"))
            .header("sec-fetch-site", "same-origin")
            .header("accept", "application/json")
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(body.clone());
        calls.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    }
    let (mut ok, mut refused, mut other) = (0, 0, 0);
    while let Some(answer) = calls.join_next().await {
        match answer {
            Ok(Ok(200)) => ok += 1,
            Ok(Ok(429)) => refused += 1,
            _ => other += 1,
        }
    }
    let took = started.elapsed().as_secs_f64();
    say(&format!(
        "Password changes, {CHANGES} at once from one viewer's session (server in its own process)"
    ));
    say(&format!(
        "  answered 200: {ok}, 429: {refused}, other: {other}  in {took:.2} s  server RSS {before:.1} MiB -> peak (VmHWM) {:.1} MiB",
        status_mib(pid, "VmHWM:")
    ));
    say("  (before the hashing gate: 48 changes took a server from 70 to 941 MiB, none refused)\n");
    drop(server);
    Ok(())
}
