//! Connections cannot be held idle (issue 23, item 2), through the real listener: sockets that
//! send nothing, or only the HTTP/2 preface, are closed and their slots released; one address
//! cannot take every slot; and the body limit's 413 is the API's JSON envelope (item 9).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::Mode;
use server::http::HttpLimits;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves the app through `server::http::serve` on a loopback port.
async fn serve(app: &TestApp, limits: HttpLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::router(app.state.clone(), app.options.clone());
    tokio::spawn(server::http::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    addr
}

/// A connection to `addr` from `from` (any loopback address on Linux).
async fn connect_from(from: Ipv4Addr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(addr).await.unwrap()
}

/// `GET /healthz` on a new connection from `from`; the status line, or `None` when the
/// connection was closed without an answer.
async fn healthz_from(from: Ipv4Addr, addr: SocketAddr) -> Option<String> {
    let mut s = connect_from(from, addr).await;
    let _ = s
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    match read {
        Ok(_) if !text.is_empty() => text.lines().next().map(str::to_owned),
        _ => None,
    }
}

/// How long until `GET /healthz` from 127.0.0.1 is answered 200, trying every 100 ms up to
/// `within`; `None` if it never is.
async fn served_again_after(addr: SocketAddr, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(line) = healthz_from(Ipv4Addr::LOCALHOST, addr).await {
            if line.contains(" 200 ") {
                return Some(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Whether the server closes `s` within `within` (anything it writes first is read past).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Every slot taken by sockets that send `opening` (nothing, or the HTTP/2 preface) and then
/// wait: the server must close them all and answer a real client again soon after.
async fn slots_held_by(app: &TestApp, opening: &[u8]) {
    let limits = HttpLimits {
        max_connections: 20,
        first_byte_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections_per_ip: 1_000,
        ..Default::default()
    };
    let addr = serve(app, limits).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(opening).await.unwrap();
        silent.push(s);
    }
    // First byte deadline 1 s, idle 1 s, a short grace for an unanswered GOAWAY: well inside 6 s.
    let waited = served_again_after(addr, Duration::from_secs(6)).await;
    assert!(waited.is_some(), "a real client was never served again");
    for (i, s) in silent.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(3)).await,
            "silent socket {i} is still open"
        );
    }
}

#[tokio::test]
async fn sockets_that_never_send_a_byte_are_closed_and_a_client_is_served_again() {
    on_every_engine(|app| async move {
        slots_held_by(&app, b"").await;
        app
    })
    .await;
}

#[tokio::test]
async fn sockets_that_send_only_the_http2_preface_are_closed_and_a_client_is_served_again() {
    on_every_engine(|app| async move {
        slots_held_by(&app, H2_PREFACE).await;
        app
    })
    .await;
}

#[tokio::test]
async fn one_address_cannot_take_every_slot_while_another_is_still_served() {
    on_every_engine(|app| async move {
        let limits = HttpLimits {
            max_connections: 100,
            max_connections_per_ip: 5,
            first_byte_timeout: Duration::from_secs(30),
            ..Default::default()
        };
        let addr = serve(&app, limits).await;
        let mut held = Vec::new();
        for _ in 0..5 {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // A sixth from the same address is closed without an answer.
        assert_eq!(healthz_from(Ipv4Addr::LOCALHOST, addr).await, None);
        // Another address is still served.
        let other = healthz_from(Ipv4Addr::new(127, 0, 0, 2), addr).await;
        assert!(
            other.as_deref().is_some_and(|l| l.contains(" 200 ")),
            "{other:?}"
        );
        // Once one of the five goes, the first address has room again.
        held.pop();
        let waited = served_again_after(addr, Duration::from_secs(3)).await;
        assert!(waited.is_some(), "the address never got its slot back");
        app
    })
    .await;
}

#[tokio::test]
async fn a_body_over_the_limit_on_v1_is_a_413_in_the_error_envelope() {
    on_every_engine(|app| async move {
        let addr = serve(&app, HttpLimits::default()).await;
        let base = format!("http://{addr}");
        let key = app.make_key("acme", &["*"], Mode::Test, "").await;
        // Declared up front (Content-Length): refused before anything reads it.
        let big = serde_json::json!({"name": "x".repeat(100 * 1024), "scopes": ["*"]});
        let r = http()
            .post(format!("{base}/v1/keys"))
            .bearer_auth(&key.secret)
            .json(&big)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let r = read(r).await;
        assert_eq!(r.code(), "payload_too_large", "{}", r.body);
        assert_eq!(
            r.body["error"]["request_id"].as_str(),
            r.header("x-request-id").as_deref()
        );
        // Streamed in chunks, with no length: refused once the limit is passed.
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n",
            key.secret
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let body = serde_json::to_vec(&big).unwrap();
        for chunk in body.chunks(8 * 1024) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if s.write_all(&framed).await.is_err() {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
        // The document says so.
        let doc: serde_json::Value = http()
            .get(format!("{base}/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let too_large = &doc["paths"]["/v1/keys"]["post"]["responses"]["413"];
        assert_eq!(
            too_large["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
        app
    })
    .await;
}
