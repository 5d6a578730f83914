//! One accepted connection, from its first byte to its close: the first-byte deadline, the
//! count of requests in flight, and the idle limit that closes a connection with none.

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a connection told to close may take to finish once it has nothing in flight (an
/// HTTP/2 peer that never acknowledges the GOAWAY is dropped after it).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What every connection shares.
pub(crate) struct Shared {
    pub router: Router,
    pub builder: Builder<TokioExecutor>,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
}

/// Serves one connection until it closes, it stays idle too long, or `stop` turns true.
pub(crate) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    // hyper-util reads the first bytes (to tell HTTP/1 from HTTP/2) with no timer of its own.
    let mut byte = [0u8; 1];
    let first = tokio::select! {
        peeked = tokio::time::timeout(shared.first_byte_timeout, stream.peek(&mut byte)) => peeked,
        _ = stop.wait_for(|stop| *stop) => return,
    };
    if !matches!(first, Ok(Ok(n)) if n > 0) {
        tracing::debug!(%peer, "connection closed: nothing sent in time");
        return;
    }
    let (in_flight, idle) = watch::channel(0usize);
    let in_flight = Arc::new(in_flight);
    let router = shared.router.clone();
    let service = tower::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        let busy = Busy::enter(&in_flight);
        async move {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            let res = router.oneshot(req).await?;
            // The request counts as in flight until its answer's body has been sent.
            Ok::<_, Infallible>(res.map(|body| Body::new(Tracked { body, _busy: busy })))
        }
    });
    let conn = shared
        .builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = idle_for(idle.clone(), shared.idle_timeout) => {
            tracing::debug!(%peer, "closing an idle connection");
        }
        _ = stop.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    // What is in flight may finish (each request is bounded by the request timeout); then the
    // connection goes, whether or not the peer plays along.
    let finish = async {
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = idle_for(idle, CLOSE_GRACE) => {}
        }
    };
    let _ = tokio::time::timeout(shared.request_timeout + CLOSE_GRACE, finish).await;
}

/// Resolves once no request has been in flight for `limit`.
async fn idle_for(mut in_flight: watch::Receiver<usize>, limit: Duration) {
    loop {
        let open = *in_flight.borrow_and_update();
        let changed = if open == 0 {
            match tokio::time::timeout(limit, in_flight.changed()).await {
                Err(_) => return,
                Ok(changed) => changed,
            }
        } else {
            in_flight.changed().await
        };
        if changed.is_err() {
            // The connection's service is gone: the connection is ending by itself.
            std::future::pending::<()>().await;
        }
    }
}

/// One request in flight on a connection.
struct Busy(Arc<watch::Sender<usize>>);

impl Busy {
    fn enter(in_flight: &Arc<watch::Sender<usize>>) -> Self {
        in_flight.send_modify(|n| *n += 1);
        Self(in_flight.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// An answer's body that keeps its request counted as in flight until it is sent or dropped.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
