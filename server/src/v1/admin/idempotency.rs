//! `Idempotency-Key` on every non-GET `/v1/admin` call: the same key with the same request
//! replays the first answer for 24 hours (`Idempotent-Replayed: true`); with another request it
//! answers 422 `idempotency_key_reused`. The key is claimed in storage before the call runs,
//! so of two concurrent twins one runs and the other waits for its answer (then 409
//! `idempotency_in_progress` if it is still running after 5 s). Server errors are not kept.

use super::Operator;
use crate::v1::error::ApiError;
use crate::v1::extract::RequestId;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use std::time::Duration;
use store::operator::idempotency::{self as kept, Begin};
use store::AppState;

pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a twin waits for the first call's answer, and how often it looks.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(25);
/// Largest answer kept for replay (admin answers are small; a list is a GET).
const KEPT_MAX: usize = 256 * 1024;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER).cloned() else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if kept::valid_key(k) => k.to_owned(),
        _ => {
            return ApiError::validation(
                "Idempotency-Key",
                "Use 1 to 255 visible ASCII characters.",
            )
            .into_response()
        }
    };
    let Some(Operator(token)) = req.extensions().get::<Operator>().cloned() else {
        return next.run(req).await;
    };
    let request_id = req.extensions().get::<RequestId>().cloned();
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::http::BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return ApiError::payload_too_large().into_response(),
    };
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(parts.uri.to_string().as_bytes());
    hash.update(b"\n");
    hash.update(&bytes);
    let hash: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match kept::begin(&state.db, token.id, &key, &hash).await {
            Ok(Begin::Fresh) => break,
            Ok(Begin::Replay { status, body }) => return replay(status, body),
            Ok(Begin::Mismatch) => {
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another request.",
                )
                .into_response()
            }
            Ok(Begin::InProgress) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(POLL).await
            }
            Ok(Begin::InProgress) => {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_in_progress",
                    "A call with this Idempotency-Key is still running; retry shortly.",
                )
                .into_response()
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }

    let mut res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Errors are rendered by the envelope later; render them here so the kept answer is the
    // one the caller saw.
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        let (parts, _) = res.into_parts();
        res = err.render(request_id.as_ref().map(|r| r.0.as_str()), parts.headers);
    }
    let status = res.status();
    if status.is_server_error() {
        if let Err(e) = kept::abandon(&state.db, token.id, &key).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, KEPT_MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "admin answer too large to keep");
            let _ = kept::abandon(&state.db, token.id, &key).await;
            return ApiError::internal().into_response();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = kept::finish(&state.db, token.id, &key, status.as_u16(), &text).await {
        tracing::error!(error = %e, "could not keep an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = res.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}
