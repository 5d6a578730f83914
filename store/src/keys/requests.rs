//! A key's request log, as its detail page pages through it.

use crate::db::{keyset_page, Db, Keyed};
use latchkey_domain::error::AppResult;
use latchkey_domain::views::RequestRow;

/// One page of a key's request log, newest first by the time of the request, by keyset on
/// (time, row id); `before` is the row id that ended the previous page. Not by row id alone:
/// with several replicas each writes its batch when its own interval ends, so ids do not
/// follow time. A key of another tenant is "not found", like everywhere else.
pub async fn request_log(
    db: &Db,
    tenant_id: i64,
    public_id: &str,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<RequestRow>, Option<i64>)> {
    let key_id = super::row_id(db, tenant_id, public_id).await?;
    let rows = sqlx::query_as::<_, RequestLogRow>(
        "SELECT id, created_at, method, path, status, client_ip, latency_us, request_id \
         FROM request_logs WHERE tenant_id = $1 AND key_id = $2 AND ($3 = 0 \
           OR created_at < (SELECT created_at FROM request_logs WHERE id = $3) \
           OR (created_at = (SELECT created_at FROM request_logs WHERE id = $3) AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(tenant_id)
    .bind(key_id)
    .bind(before.unwrap_or(0))
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    keyset_page(rows, limit, |r| Ok(r.into()))
}

#[derive(Debug, sqlx::FromRow)]
struct RequestLogRow {
    id: i64,
    created_at: i64,
    method: String,
    path: String,
    status: i64,
    client_ip: Option<String>,
    latency_us: i64,
    request_id: String,
}

impl Keyed for RequestLogRow {
    fn keyset_id(&self) -> i64 {
        self.id
    }
}

impl From<RequestLogRow> for RequestRow {
    fn from(r: RequestLogRow) -> Self {
        Self {
            at: r.created_at,
            method: r.method,
            path: r.path,
            status: u16::try_from(r.status).unwrap_or(0),
            client_ip: r.client_ip.unwrap_or_default(),
            latency_us: r.latency_us,
            request_id: r.request_id,
        }
    }
}
