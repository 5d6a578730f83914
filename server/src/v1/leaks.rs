//! Leak response: `POST /v1/leaks` (anyone holding a key may report it; GitHub's secret
//! scanning reports signed) and `POST /v1/keys/self/revoke` (a key stops itself).

use super::error::{ApiError, ErrorBody};
use super::extract::Caller;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use latchkey_domain::verify::Rejection;
use latchkey_domain::views::KeyView;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use store::audit::Actor;
use store::keys::leak::LeakReport;
use store::AppState;
use utoipa::ToSchema;

/// Tokens one report may name (GitHub batches up to a few dozen).
pub const MAX_TOKENS: usize = 100;
const SIGNATURE_HEADER: &str = "github-public-key-signature";
/// What a report refused for want of a free turn is told to wait.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// One exposed token, in GitHub's secret-scanning partner format. Its `Debug` never shows the
/// token.
#[derive(Deserialize, ToSchema)]
pub struct ReportedToken {
    /// The token as found.
    #[schema(max_length = 200)]
    pub token: String,
    /// The token type the scanner matched (e.g. `latchkey_live_key`); informational.
    #[serde(default, rename = "type")]
    #[schema(max_length = 200)]
    pub kind: String,
    /// Where it was found; shown on the key's page.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub url: String,
    /// What kind of place that was (`content`, `commit`, `gist`, …).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub source: String,
}

/// The first field of `t` longer than the document allows, with that bound (in characters,
/// as JSON Schema counts them).
fn over_long(t: &ReportedToken) -> Option<(&'static str, usize)> {
    [
        ("token", &t.token, 200),
        ("type", &t.kind, 200),
        ("url", &t.url, 2000),
        ("source", &t.source, 200),
    ]
    .into_iter()
    .find(|(_, value, max)| value.chars().count() > *max)
    .map(|(field, _, max)| (field, max))
}

impl std::fmt::Debug for ReportedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportedToken")
            .field("url", &self.url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The one answer every report gets, whatever it named.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReceived {
    /// Always `received`: the answer never says whether a token was a real key.
    pub status: &'static str,
}

/// Report exposed tokens. Each real key among them is revoked (or disabled, by its
/// organisation's choice) before the answer, marked leaked with the report's `url`, and
/// announced by webhook. No authentication: holding a key is enough to report it. A report
/// carrying `Github-Public-Key-Signature` must verify against a `--leak-report-key`. Every
/// report is answered alike, and no sooner than the server's floor. Each token named spends one
/// from the client address's budget.
#[utoipa::path(
    post,
    path = "/v1/leaks",
    tag = "leaks",
    request_body(content = Vec<ReportedToken>, description = "At most 100 tokens."),
    responses(
        (status = 200, description = "Received (the same answer for real keys and junk)", body = ReportReceived),
        (status = 400, description = "invalid_request: not a JSON array of tokens, or more than 100", body = ErrorBody),
        (status = 401, description = "invalid_signature: a signature was sent and does not verify", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (answered before the API reads it)"),
        (status = 422, description = "validation_failed: a field longer than its schema allows (`token`, `type`, `source`: 200 characters; `url`: 2,000)", body = ErrorBody),
        (status = 429, description = "rate_limited: this address reported more than its tokens a minute (1,200 by default, its IPv6 /48 eight times that), or the server is acting on as many reports as it may", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReportReceived>, ApiError> {
    let started = Instant::now();
    let client = store::request::client_ip(
        peer.map(|Extension(ConnectInfo(addr))| addr.ip()),
        &headers,
        &state.settings.trusted_proxies,
    );
    // Parsed before the budget is taken, so that it is taken per token; a body that does not
    // parse costs one, like a report naming nothing.
    let tokens = serde_json::from_slice::<Vec<ReportedToken>>(&body);
    let cost = tokens.as_ref().map_or(1, |t| t.len().min(MAX_TOKENS + 1));
    if let Err(retry_after_secs) = state.leaks.spend(client, cost) {
        return Err(Rejection::RateLimited { retry_after_secs }.into());
    }
    let keys = &state.settings.leak_report_keys;
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let signed = match signature {
        Some(sig) if !keys.is_empty() => {
            if !keys.verify(&body, sig) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_signature",
                    "The report's signature does not verify against the configured keys.",
                ));
            }
            true
        }
        _ => false,
    };
    let tokens = tokens.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send a JSON array of {\"token\", \"type\", \"url\", \"source\"}.",
        )
    })?;
    if tokens.len() > MAX_TOKENS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("At most {MAX_TOKENS} tokens a report."),
        ));
    }
    // The document bounds each field; a longer one is refused, never cut or read anyway. The
    // answer depends on the body's shape only, so it says nothing about whether a token is a key.
    if let Some((field, max)) = tokens.iter().find_map(over_long) {
        return Err(ApiError::validation(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    // Refused while the process acts on as many reports as it may: nothing is spawned, and
    // the reporter (GitHub retries) tries again rather than being told a report was taken.
    let Some(turn) = state.leaks.turn() else {
        return Err(Rejection::RateLimited {
            retry_after_secs: BUSY_RETRY.as_secs(),
        }
        .into());
    };
    let reports: Vec<LeakReport> = tokens
        .into_iter()
        .map(|t| LeakReport {
            token: t.token,
            url: t.url,
            source: t.source,
        })
        .collect();
    let actor = Actor {
        client_ip: Some(client),
        ..Actor::named(if signed {
            "leak_report:github"
        } else {
            "leak_report"
        })
    };
    // The work runs on its own task: an answer that waits for it at most until the floor says
    // nothing through its timing, and a slow storage still finishes the stop after answering.
    // Failures are logged, never answered: junk could not fail the same way.
    let floor = state.settings.leak_report_floor;
    let work = tokio::spawn({
        let state = state.clone();
        async move {
            let _turn = turn;
            match store::keys::leak::report(&state.db, &state.verifier, &actor, &reports).await {
                Ok(stopped) => {
                    for s in &stopped {
                        state.verifier.forget_key(s.tenant_id, &s.public_id).await;
                    }
                    if !stopped.is_empty() {
                        state.webhooks.wake();
                    }
                }
                Err(e) => tracing::error!(error = %e, "acting on a leak report failed"),
            }
        }
    });
    if floor.is_zero() {
        let _ = work.await;
    } else if let Some(rest) = floor.checked_sub(started.elapsed()) {
        let _ = tokio::time::timeout(rest, work).await;
    }
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(Json(ReportReceived { status: "received" }))
}

/// The calling key revokes itself, at once (for a key just pasted somewhere it should not be).
/// Needs no scope: holding the key is enough. Audited as the key itself.
#[utoipa::path(
    post,
    path = "/v1/keys/self/revoke",
    tag = "keys",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The calling key, now revoked", body = KeyView),
        (status = 403, description = "ip_not_allowed or plan_required", body = ErrorBody),
    )
)]
pub async fn revoke_self(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeyView>, ApiError> {
    let tenant_id = caller.tenant_id();
    let id = caller.0.key.public_id.clone();
    let key = store::keys::revoke(
        &state.db,
        tenant_id,
        &caller.actor(),
        &id,
        "Revoked by the key itself",
    )
    .await?;
    state.verifier.forget_key(tenant_id, &id).await;
    Ok(Json(key))
}
