//! `GET /audit/export.csv`: the Audit log page's "Export CSV". A plain route rather than a server
//! function because it streams: the body is written a thousand rows at a time as the browser
//! reads it, so memory stays flat however long the log. Same guard as the page (session, the
//! page's tenant, owner or admin), refused cross-site, and recorded as `audit.exported`.

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use latchkey_domain::audit::AuditAction;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::views::AuditQuery;
use latchkey_domain::Action;
use serde::Deserialize;
use std::net::SocketAddr;
use store::audit::{export::csv_stream, record_now, AuditFilter, Event};
use store::AppState;

#[derive(Debug, Deserialize)]
pub struct ExportParams {
    tenant: i64,
    #[serde(default)]
    key: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn export(
    State(state): State<AppState>,
    Query(p): Query<ExportParams>,
    parts: Parts,
) -> Response {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    match start(&state, peer, &parts.headers, p).await {
        Ok(res) => res,
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, e.to_string()).into_response()
        }
    }
}

async fn start(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    p: ExportParams,
) -> AppResult<Response> {
    // A link on another site must not make a signed-in owner's browser export (and record it).
    if store::request::is_cross_site(headers) {
        return Err(AppError::Forbidden);
    }
    let ip = store::request::client_ip(
        peer.map(|a| a.ip()),
        headers,
        &state.settings.trusted_proxies,
    );
    let token = store::request::cookie(headers, state.settings.session_cookie_name())
        .ok_or(AppError::Unauthorized)?;
    let session = store::auth::session(&state.db, &token, ip, state.settings.session_idle)
        .await?
        .ok_or(AppError::Unauthorized)?
        .require(Action::ViewAudit, p.tenant)?;
    let query = AuditQuery {
        key: p.key,
        actor: p.actor,
        action: p.action,
        from: p.from,
        to: p.to,
    };
    let filter = AuditFilter::from_query(&query)?;
    let described = describe(&query);
    let details = serde_json::json!({ "filter": described, "via": "web" });
    let event = Event::tenant(session.tenant_id, AuditAction::AuditExported, details);
    record_now(&state.db, &session.actor(), event).await?;
    tracing::info!(tenant_id = session.tenant_id, filter = %described, "audit log exported");

    let tenant_id = session.tenant_id;
    let body = csv_stream(state.db.clone(), tenant_id, filter).map(move |chunk| {
        chunk.inspect_err(
            |e| tracing::error!(tenant_id, error = %e, "audit export failed mid-stream"),
        )
    });
    let filename = format!(
        "attachment; filename=\"latchkey-audit-{}.csv\"",
        latchkey_domain::time::format_date(state.db.clock.now_ms())
    );
    let mut res = Response::new(Body::from_stream(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `action=api_key.revoked key=CI` (or `none`): what the export event records.
pub fn describe(q: &AuditQuery) -> String {
    let pairs = q.pairs();
    if pairs.is_empty() {
        return "none".to_owned();
    }
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
