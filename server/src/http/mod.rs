//! Serving connections with the limits `axum::serve` has no knobs for: a deadline for a new
//! connection's first byte, a deadline for reading a request's headers (slowloris), an idle
//! limit for connections with no request in flight (HTTP/1 keep-alive and HTTP/2 alike), a cap
//! on open connections overall and per client address, and a deadline per request. The
//! connection loop is hyper-util's, as `axum::serve` uses it; body size limits sit in the
//! router itself (`/v1` answers its 413 in the API's error envelope).

mod conn;
mod per_ip;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower_http::timeout::TimeoutLayer;

/// Largest request body anything here accepts (server functions and `/v1` bodies are small).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How often an HTTP/2 connection is pinged while open, and how long the peer has to answer
/// before the connection is taken for dead.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// A client must send a request's headers within this.
    pub header_read_timeout: Duration,
    /// A request must be answered within this (408 otherwise).
    pub request_timeout: Duration,
    /// Connections open at once; beyond it new ones are closed at accept.
    pub max_connections: usize,
    /// A new connection must send its first byte within this, or it is closed.
    pub first_byte_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/1 and HTTP/2).
    pub idle_timeout: Duration,
    /// Connections open at once from one client address (an IPv6 /64 counts as one).
    pub max_connections_per_ip: usize,
    /// Addresses the per-address cap does not apply to: the trusted proxies, which carry
    /// many clients each.
    pub per_ip_exempt: Vec<ipnet::IpNet>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            first_byte_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connections_per_ip: 256,
            per_ip_exempt: Vec::new(),
        }
    }
}

/// The router with the per-request limits applied.
pub fn limited(router: Router, limits: &HttpLimits) -> Router {
    router.layer(TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ))
}

fn builder(limits: &HttpLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper 1.x restarts this timer whenever an HTTP/1 connection waits for its next request,
    // so it also closes keep-alive connections left idle.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    builder
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max_connections = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max_connections));
    let per_ip = per_ip::PerIp::new(limits.max_connections_per_ip, limits.per_ip_exempt.clone());
    let shared = Arc::new(conn::Shared {
        router: limited(router, &limits),
        builder: builder(&limits),
        first_byte_timeout: limits.first_byte_timeout,
        idle_timeout: limits.idle_timeout,
        request_timeout: limits.request_timeout,
    });
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(ticket) = per_ip.enter(peer.ip()) else {
            tracing::warn!(%peer, "connection refused: too many open from this address");
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: too many open connections");
            continue;
        };
        let (shared, stopping) = (shared.clone(), stopping.clone());
        tokio::spawn(async move {
            conn::run(stream, peer, shared, stopping).await;
            drop((slot, ticket));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection gives its slot back once it has closed.
    let _ = slots
        .acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}
