//! `GET /v1/changes`: the change log as Server-Sent Events, for host processes that cache
//! verdicts (the `latchkey-client` crate). Any replica serves it: each reads the same log
//! (`store::verify::changes`), fed by the triggers on every engine.
//!
//! - `key` `{key_id, tenant}` and `tenant` `{tenant}` carry the log's ids; `reset` says "drop
//!   everything" (a fresh stream, or a `Last-Event-ID` older than the kept log).
//! - A `heartbeat` every `--changes-heartbeat-ms`, only while this process reads its log: a
//!   replica that cannot read storage falls silent and its clients' leases lapse (fail closed).
//! - Bounded: at most `--changes-max-streams` at once (503 past it), each an HTTP connection
//!   under the connection caps, and a reader that takes no event within [`SLOW_READER`] or
//!   falls [`store::verify::changes::BUFFERED`] changes behind is dropped, never buffered.

use super::error::ApiError;
use super::verify::VerifyGuard;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::verify::changes::{self, Change, ChangeEvent};
use store::AppState;
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit, Semaphore};

/// A stream whose reader takes no event for this long is closed.
pub const SLOW_READER: Duration = Duration::from_secs(5);

/// The open-streams cap, shared by every request of this process.
#[derive(Clone)]
pub struct StreamSlots(pub Arc<Semaphore>);

/// Streams the change log (service token as Bearer; `Last-Event-ID` resumes).
#[utoipa::path(
    get,
    path = "/v1/changes",
    tag = "verify",
    security(("service_token" = [])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "text/event-stream: `key`, `tenant`, `reset` and `heartbeat` events", content_type = "text/event-stream", body = String),
        (status = 401, description = "invalid_service_token", body = super::error::ErrorBody),
        (status = 429, description = "rate_limited: too many wrong service tokens from this address", body = super::error::ErrorBody),
        (status = 503, description = "unavailable: too many open streams, or the change log cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    Extension(guard): Extension<VerifyGuard>,
    Extension(slots): Extension<StreamSlots>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    guard.admit(&state, connect, &headers, "GET /v1/changes")?;
    let Ok(slot) = slots.0.clone().try_acquire_owned() else {
        metrics::counter!("latchkey_change_streams_refused_total").increment(1);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Too many change streams are open on this server; retry shortly.",
        ));
    };
    let feed = state.verifier.changes.clone();
    let (live, cursor) = feed.subscribe();
    let Some(cursor) = cursor.filter(|_| feed.is_fresh()) else {
        return Err(ApiError::unavailable());
    };
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    // What comes first: the backlog after `last_seen`, or a reset.
    let resume_from = match last_seen {
        Some(n) => match changes::can_resume(&state.db, n, cursor).await {
            Ok(true) => Some(n),
            Ok(false) => None,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the change log for a resume");
                return Err(ApiError::unavailable());
            }
        },
        None => None,
    };
    let (tx, rx) = mpsc::channel::<Event>(16);
    let heartbeat = state.settings.gateway.changes_heartbeat;
    tokio::spawn(serve(state, live, cursor, resume_from, heartbeat, tx, slot));
    let events = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(sse(events).into_response())
}

fn sse(events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    let mut res = Sse::new(events).into_response();
    // Proxies (nginx) must pass each event on as it comes.
    res.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    res
}

/// Feeds one stream until its reader goes, lags or stalls.
async fn serve(
    state: AppState,
    mut live: broadcast::Receiver<Arc<Change>>,
    cursor: i64,
    resume_from: Option<i64>,
    heartbeat: Duration,
    tx: mpsc::Sender<Event>,
    _slot: OwnedSemaphorePermit,
) {
    metrics::gauge!("latchkey_change_streams").increment(1.0);
    let reason = run(&state, &mut live, cursor, resume_from, heartbeat, &tx).await;
    metrics::gauge!("latchkey_change_streams").decrement(1.0);
    tracing::debug!(reason, "change stream closed");
}

async fn run(
    state: &AppState,
    live: &mut broadcast::Receiver<Arc<Change>>,
    cursor: i64,
    resume_from: Option<i64>,
    heartbeat: Duration,
    tx: &mpsc::Sender<Event>,
) -> &'static str {
    let mut last = match resume_from {
        Some(n) => {
            // The backlog, page by page, up to the cursor live events start after.
            let mut at = n;
            while at < cursor {
                let page = match changes::after(&state.db, at, cursor).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the change log backlog");
                        return "storage";
                    }
                };
                let Some(end) = page.last().map(|c| c.id) else {
                    break;
                };
                for c in &page {
                    if !send(tx, change_event(c)).await {
                        return "reader gone or slow";
                    }
                }
                at = end;
            }
            cursor
        }
        None => {
            if !send(tx, marker("reset", cursor)).await {
                return "reader gone or slow";
            }
            cursor
        }
    };
    let mut beat = tokio::time::interval(heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            got = live.recv() => match got {
                Ok(c) if c.id <= last => continue,
                Ok(c) => {
                    last = c.id;
                    change_event(&c)
                }
                // Dropped rather than buffered: the client resumes from its last id.
                Err(broadcast::error::RecvError::Lagged(_)) => return "lagged",
                Err(broadcast::error::RecvError::Closed) => return "shutting down",
            },
            _ = beat.tick() => {
                // Silent while this process cannot read its log: the client's lease lapses.
                if !state.verifier.changes.is_fresh() {
                    continue;
                }
                marker("heartbeat", last)
            }
            _ = tx.closed() => return "reader gone",
        };
        if !send(tx, event).await {
            return "reader gone or slow";
        }
    }
}

async fn send(tx: &mpsc::Sender<Event>, event: Event) -> bool {
    tx.send_timeout(event, SLOW_READER).await.is_ok()
}

fn marker(name: &str, id: i64) -> Event {
    Event::default().event(name).id(id.to_string()).data("{}")
}

fn change_event(c: &Change) -> Event {
    let (name, data) = match &c.event {
        ChangeEvent::Key { key_id, tenant } => (
            "key",
            serde_json::json!({ "key_id": key_id, "tenant": tenant }),
        ),
        ChangeEvent::Tenant { tenant } => ("tenant", serde_json::json!({ "tenant": tenant })),
    };
    Event::default()
        .event(name)
        .id(c.id.to_string())
        .data(data.to_string())
}
