//! Real `latchkey serve` processes for the multi-replica tests: started on a database with the
//! test apps' pepper, ready once `/readyz` answers, killed when dropped.

use super::{http, test_pepper_hex};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process of ours; killed when dropped.
pub struct Replica {
    pub child: Child,
    pub base: String,
    pub metrics: String,
    pub log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn health(&self) -> serde_json::Value {
        let r = http()
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "latchkey-replicas-{label}-{}",
        latchkey_domain::keys::random_base62(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `latchkey serve` on `url` with the test apps' pepper and waits until it is ready
/// (`/readyz`: migrations ran and it hears invalidations).
pub async fn start(url: &str, dir: &Path, name: &str, extra: &[&str]) -> Replica {
    let port = free_port();
    let metrics_port = free_port();
    let log = dir.join(format!("{name}.log"));
    let data = dir.join(format!("{name}-data"));
    let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--database-url", url, "--data-dir", data.to_str().unwrap()])
        .args(["--pepper", &test_pepper_hex(), "--log-format", "json"])
        .args(["--log", "info,sqlx=warn", "--usage-flush-ms", "100"])
        .args(extra)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let replica = Replica {
        child,
        base: format!("http://127.0.0.1:{port}"),
        metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http().get(format!("{}/readyz", replica.base)).send().await {
            if r.status() == 200 {
                return replica;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became ready:\n{}",
            replica.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
