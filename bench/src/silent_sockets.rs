//! Silent-socket floods (issue 23, item 2): `--max-connections` sockets that send nothing (or
//! only the HTTP/2 preface) against the real listener (`server::http::serve`, in-process as the
//! other figures serve). Figures: how long until a real client is answered again, and how many
//! of the flood's sockets the server still holds once the deadline has passed. The bounds are
//! asserted in `server/tests/connections.rs`.

use crate::say;
use anyhow::{Context, Result};
use latchkey_domain::keys::Pepper;
use server::http::HttpLimits;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};
use store::db::Db;
use store::{AppState, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SLOTS: usize = 300;
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How long a run waits for a real client to be answered before it gives up.
const CUTOFF: Duration = Duration::from_secs(12);

async fn connect_from(from: Ipv4Addr, addr: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    Ok(socket.connect(addr).await?)
}

/// Whether `GET /healthz` from `from` is answered 200 on a new connection.
async fn served(from: Ipv4Addr, addr: SocketAddr) -> bool {
    let attempt = async {
        let mut s = connect_from(from, addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await?;
        Ok::<_, anyhow::Error>(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}

/// How many of `sockets` the server still holds open (closed ones read EOF or fail).
fn still_open(sockets: &[TcpStream]) -> usize {
    let mut buf = [0u8; 4096];
    sockets
        .iter()
        .filter(|s| loop {
            match s.try_read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        })
        .count()
}

struct Outcome {
    served_after: Option<Duration>,
    held_after_deadline: usize,
}

/// Fills the slots from 127.0.0.1 with sockets that send `opening`, then polls a real client
/// from `client` until it is answered (or the cutoff), and counts what is still held.
async fn flood(
    router: axum::Router,
    limits: HttpLimits,
    opening: &[u8],
    client: Ipv4Addr,
) -> Result<Outcome> {
    let deadline = limits.first_byte_timeout.max(limits.idle_timeout);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(server::http::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    let mut sockets = Vec::with_capacity(SLOTS);
    for _ in 0..SLOTS {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(opening).await?;
        sockets.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut served_after = None;
    while started.elapsed() < CUTOFF {
        if served(client, addr).await {
            served_after = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if served_after.is_some() {
        let settle = (deadline + Duration::from_secs(2)).saturating_sub(started.elapsed());
        tokio::time::sleep(settle).await;
    }
    let held_after_deadline = still_open(&sockets);
    server.abort();
    Ok(Outcome {
        served_after,
        held_after_deadline,
    })
}

fn line(label: &str, o: &Outcome) -> String {
    let served = match o.served_after {
        Some(d) => format!("{:>6.2} s", d.as_secs_f64()),
        None => format!("never within {} s", CUTOFF.as_secs()),
    };
    format!(
        "  {label:<46} client served after {served:<18} sockets still held {}/{SLOTS}",
        o.held_after_deadline
    )
}

pub async fn run(work: &Path, site_root: &Path) -> Result<()> {
    let db = Db::connect(&format!("sqlite://{}/silent.db", work.display())).await?;
    db.migrate().await?;
    let pepper = Pepper::new((0..32).map(|_| rand::random::<u8>()).collect()).context("pepper")?;
    let state = AppState::new(db, Settings::default(), pepper);
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root.display().to_string())
        .build();
    let router = server::router(state, options);
    say(&format!(
        "Silent sockets: {SLOTS} connections that send nothing, with --max-connections {SLOTS}"
    ));
    let one_ip = |first_byte: u64, idle: u64| HttpLimits {
        max_connections: SLOTS,
        max_connections_per_ip: 10_000,
        first_byte_timeout: Duration::from_secs(first_byte),
        idle_timeout: Duration::from_secs(idle),
        ..HttpLimits::default()
    };
    // No deadlines at all stands for the code before: nothing timed the first bytes, and
    // HTTP/2 had no idle limit.
    let before = flood(
        router.clone(),
        one_ip(3_600, 3_600),
        b"",
        Ipv4Addr::LOCALHOST,
    )
    .await?;
    say(&line("no deadlines (as before), nothing sent", &before));
    let after = flood(router.clone(), one_ip(5, 30), b"", Ipv4Addr::LOCALHOST).await?;
    say(&line("first byte 5 s, nothing sent", &after));
    let h2 = flood(
        router.clone(),
        one_ip(5, 5),
        H2_PREFACE,
        Ipv4Addr::LOCALHOST,
    )
    .await?;
    say(&line("idle 5 s, HTTP/2 preface only", &h2));
    // The default per-address cap: one address cannot fill the slots at all.
    let capped = HttpLimits {
        max_connections: SLOTS,
        ..HttpLimits::default()
    };
    let other = flood(router, capped, b"", Ipv4Addr::new(127, 0, 0, 2)).await?;
    say(&format!(
        "{} (per-address cap 256, client from 127.0.0.2)\n",
        line("defaults, nothing sent", &other)
    ));
    Ok(())
}
