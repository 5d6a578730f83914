//! Server functions for the Audit log page. Each starts with `require(ViewAudit, tenant)`:
//! owners and admins only; members, viewers and other tenants get nothing.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

pub use latchkey_domain::views::{AuditEntry, AuditPageView, AuditQuery};

/// Events a page holds.
pub const PAGE_SIZE: i64 = 50;

/// One page of the tenant's events matching `query`: the newest, or those just `before` (older
/// than) or `after` (newer than) an event id.
#[server(endpoint = "audit/list", input = Json)]
pub async fn list_audit(
    tenant: i64,
    query: AuditQuery,
    #[server(default)] before: Option<i64>,
    #[server(default)] after: Option<i64>,
) -> Result<AuditPageView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;
    use store::audit::{AuditCursor, AuditFilter};

    let session = require(Action::ViewAudit, tenant).await?;
    let state = state()?;
    let filter = AuditFilter::from_query(&query)?;
    let cursor = match (before, after) {
        (Some(b), _) => AuditCursor::Before(b),
        (None, Some(a)) => AuditCursor::After(a),
        (None, None) => AuditCursor::Newest,
    };
    let page = store::audit::list(&state.db, session.tenant_id, &filter, cursor, PAGE_SIZE).await?;
    Ok(AuditPageView {
        rows: page.rows.into_iter().map(AuditEntry::from).collect(),
        newer: page.newer,
        older: page.older,
        now: state.db.clock.now_ms(),
    })
}
