//! Prometheus metrics for operators, on an address they choose (`--metrics-addr`), never on the
//! public one. The `metrics` facade records from wherever the work happens (verifier, caches,
//! listener, `/v1`); this module installs the Prometheus recorder and serves its text.
//!
//! Names: `latchkey_verifications_total{outcome}` (valid or the refusal code),
//! `latchkey_key_cache_total{result=hit|miss|bypass}`, `latchkey_invalidations_received_total`,
//! `latchkey_invalidation_listening` (1 while this process hears every change),
//! `latchkey_invalidation_listener_losses_total`, `latchkey_rate_limit_store_failures_total`,
//! `latchkey_usage_queue_events`, `latchkey_usage_queue_bytes`, `latchkey_usage_dropped_total`,
//! `latchkey_request_duration_seconds{surface=v1|site}` (histogram).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store::AppState;

/// Request durations in seconds: from a cached verification to a slow page.
const BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0,
];

/// Installs the process-wide recorder (once per process) and serves `/metrics` on `addr`.
/// Returns the address actually bound (port 0 picks a free one).
pub async fn serve(addr: SocketAddr, state: AppState) -> anyhow::Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), BUCKETS)?
        .install_recorder()?;
    metrics::gauge!("latchkey_invalidation_listening").set(
        if state.verifier.listen_state() == store::verify::push::ListenState::Listening {
            1.0
        } else {
            0.0
        },
    );
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state((handle, state));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    tracing::info!(url = %format!("http://{bound}/metrics"), "serving metrics");
    Ok(bound)
}

async fn render(State((handle, state)): State<(PrometheusHandle, AppState)>) -> Response {
    // Queue figures are read when scraped, not counted on the request path.
    let usage = &state.verifier.usage;
    metrics::gauge!("latchkey_usage_queue_events").set(usage.queue_len() as f64);
    metrics::gauge!("latchkey_usage_queue_bytes")
        .set(usage.stats.queued_bytes.load(Ordering::Relaxed) as f64);
    metrics::counter!("latchkey_usage_dropped_total")
        .absolute(usage.stats.dropped.load(Ordering::Relaxed));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Times every site request (pages, server functions) into the latency histogram; `/v1`
/// records its own in key authentication.
pub async fn time_site(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!("latchkey_request_duration_seconds", "surface" => "site")
        .record(started.elapsed().as_secs_f64());
    res
}
