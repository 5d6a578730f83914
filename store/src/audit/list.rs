//! Reading the log: one tenant's events newest first, filtered, by keyset on the row id in both
//! directions (Newer / Older), so a page costs the same at the millionth event as at the first
//! and rows arriving between pages are neither skipped nor repeated.

use super::summary::summarise;
use crate::db::{storable, Db};
use latchkey_domain::audit::AuditAction;
use latchkey_domain::error::{AppError, AppResult, FieldError};
use latchkey_domain::time::{parse_date_end_ms, parse_date_start_ms};
use latchkey_domain::views::{AuditEntry, AuditQuery, AuditRow};

/// Which events to list; every filter is optional, and they combine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this target id, e.g. a key's `key_…` id or a user's id.
    pub target_id: Option<String>,
    /// A key, by its `key_…` id or its current name (any case).
    pub key: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
}

impl AuditFilter {
    /// The page's and the export's filters, checked: a date that is not one or an action that
    /// is not listed is a field error, not an empty page.
    pub fn from_query(q: &AuditQuery) -> AppResult<Self> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut errors = Vec::new();
        let mut day = |field: &str, s: &str, parse: fn(&str) -> Option<i64>| match text(s) {
            None => None,
            Some(d) => parse(&d).or_else(|| {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: "Use a date like 2026-12-01.".to_owned(),
                });
                None
            }),
        };
        let since = day("from", &q.from, parse_date_start_ms);
        let until = day("to", &q.to, |d| parse_date_end_ms(d).map(|end| end + 1));
        let action = text(&q.action);
        if action
            .as_deref()
            .is_some_and(|a| AuditAction::parse(a).is_none())
        {
            errors.push(FieldError {
                field: "action".to_owned(),
                message: "Choose an action from the list.".to_owned(),
            });
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Self {
            target_id: None,
            key: text(&q.key),
            actor: text(&q.actor),
            action,
            since,
            until,
        })
    }
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditCursor {
    #[default]
    Newest,
    /// The page of events older than this row id.
    Before(i64),
    /// The page of events newer than this row id (going back towards the newest).
    After(i64),
}

/// One page, newest first, with the cursors of the pages beside it when there are any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub rows: Vec<AuditEventRow>,
    /// `AuditCursor::After` this for the newer page.
    pub newer: Option<i64>,
    /// `AuditCursor::Before` this for the older page.
    pub older: Option<i64>,
}

/// One stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEventRow {
    pub id: i64,
    #[sqlx(rename = "created_at")]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    pub details: String,
    pub hash: Option<String>,
}

impl AuditEventRow {
    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null)
    }

    /// The key's (or member's) name as the event recorded it.
    pub fn target_name(&self) -> Option<String> {
        let d = self.details_json();
        d["name"]
            .as_str()
            .or_else(|| d["email"].as_str())
            .map(str::to_owned)
    }
}

impl From<AuditEventRow> for AuditEntry {
    fn from(r: AuditEventRow) -> Self {
        let details = r.details_json();
        Self {
            summary: summarise(&r.action, &details),
            target_name: r.target_name(),
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            client_ip: r.client_ip,
        }
    }
}

impl From<AuditEventRow> for AuditRow {
    fn from(r: AuditEventRow) -> Self {
        let details = summarise(&r.action, &r.details_json());
        Self {
            at: r.at,
            actor: r.actor,
            action: r.action,
            details,
        }
    }
}

pub(super) const COLUMNS: &str =
    "id, created_at, actor, action, target_type, target_id, client_ip, details, hash";

/// A value to bind, in order, to the `$n` of a built query.
enum Bind {
    Int(i64),
    Text(String),
}

/// The `WHERE` of a filtered read of one tenant's events, built once and reused for the page
/// and for the probes beside it.
pub(super) struct Scope {
    sql: String,
    binds: Vec<Bind>,
}

impl Scope {
    fn push(&mut self, clause: &str, value: Bind) {
        self.binds.push(value);
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.binds.len())));
    }

    /// `SELECT {COLUMNS} … {extra} ORDER BY id {order} LIMIT n`, bound.
    pub(super) async fn fetch(
        &self,
        db: &Db,
        extra: Option<(&str, i64)>,
        descending: bool,
        limit: i64,
    ) -> AppResult<Vec<AuditEventRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_events WHERE {}", self.sql);
        let mut n = self.binds.len();
        if let Some((clause, _)) = extra {
            n += 1;
            sql.push_str(&clause.replace('?', &format!("${n}")));
        }
        let order = if descending { "DESC" } else { "ASC" };
        sql.push_str(&format!(" ORDER BY id {order} LIMIT ${}", n + 1));
        let mut q = sqlx::query_as::<_, AuditEventRow>(&sql);
        for b in &self.binds {
            q = match b {
                Bind::Int(i) => q.bind(*i),
                Bind::Text(t) => q.bind(t.clone()),
            };
        }
        if let Some((_, v)) = extra {
            q = q.bind(v);
        }
        Ok(q.bind(limit).fetch_all(&db.pool).await?)
    }
}

/// The scope for a tenant and filter, or `None` when nothing can match (an unknown key name,
/// a text no row can hold, a time range with no events).
pub(super) async fn scope(
    db: &Db,
    tenant_id: i64,
    filter: &AuditFilter,
) -> AppResult<Option<Scope>> {
    let texts = [
        &filter.target_id,
        &filter.key,
        &filter.actor,
        &filter.action,
    ];
    if texts.into_iter().flatten().any(|t| !storable(t)) {
        return Ok(None);
    }
    let mut s = Scope {
        sql: String::new(),
        binds: Vec::new(),
    };
    s.push("tenant_id = ?", Bind::Int(tenant_id));
    if let Some(t) = &filter.target_id {
        s.push(" AND target_id = ?", Bind::Text(t.clone()));
    }
    if let Some(k) = &filter.key {
        let ids = key_ids(db, tenant_id, k).await?;
        if ids.is_empty() {
            return Ok(None);
        }
        s.sql
            .push_str(" AND target_type = 'api_key' AND target_id IN (");
        for (i, id) in ids.into_iter().enumerate() {
            s.push(if i == 0 { "?" } else { ", ?" }, Bind::Text(id));
        }
        s.sql.push(')');
    }
    if let Some(a) = &filter.actor {
        s.push(" AND actor = ?", Bind::Text(a.clone()));
    }
    if let Some(a) = &filter.action {
        s.push(" AND action = ?", Bind::Text(a.clone()));
    }
    // created_at never decreases along a tenant's chain, so the range is an id range: two index
    // probes, and the page walks the id index like an unfiltered one.
    if let Some(since) = filter.since {
        match first_id_at(db, tenant_id, since).await? {
            Some(lo) => s.push(" AND id >= ?", Bind::Int(lo)),
            None => return Ok(None),
        }
    }
    if let Some(until) = filter.until {
        if let Some(hi) = first_id_at(db, tenant_id, until).await? {
            s.push(" AND id < ?", Bind::Int(hi));
        }
    }
    Ok(Some(s))
}

/// The first event at or after `at`.
async fn first_id_at(db: &Db, tenant_id: i64, at: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM audit_events WHERE tenant_id = $1 AND created_at >= $2 \
         ORDER BY tenant_id, created_at, id LIMIT 1",
    )
    .bind(tenant_id)
    .bind(at)
    .fetch_optional(&db.pool)
    .await?)
}

/// The ids of the tenant's keys with this id or (any case) this name; a name may be shared.
async fn key_ids(db: &Db, tenant_id: i64, key: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT public_id FROM api_keys WHERE tenant_id = $1 \
         AND (public_id = $2 OR LOWER(name) = LOWER($2)) ORDER BY id LIMIT 50",
    )
    .bind(tenant_id)
    .bind(key.trim())
    .fetch_all(&db.pool)
    .await?)
}

/// One page of a tenant's events, newest first.
pub async fn list(
    db: &Db,
    tenant_id: i64,
    filter: &AuditFilter,
    cursor: AuditCursor,
    limit: i64,
) -> AppResult<AuditPage> {
    let empty = AuditPage {
        rows: Vec::new(),
        newer: None,
        older: None,
    };
    let Some(scope) = scope(db, tenant_id, filter).await? else {
        return Ok(empty);
    };
    let (mut rows, newest_first) = match cursor {
        AuditCursor::Newest => (scope.fetch(db, None, true, limit + 1).await?, true),
        AuditCursor::Before(id) => (
            scope
                .fetch(db, Some((" AND id < ?", id)), true, limit + 1)
                .await?,
            true,
        ),
        AuditCursor::After(id) => (
            scope
                .fetch(db, Some((" AND id > ?", id)), false, limit + 1)
                .await?,
            false,
        ),
    };
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    if !newest_first {
        rows.reverse();
    }
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(empty);
    };
    let (top, bottom) = (first.id, last.id);
    // The side we fetched towards knows from `more`; the other side asks the index once.
    let newer = match cursor {
        AuditCursor::Newest => false,
        AuditCursor::After(_) => more,
        AuditCursor::Before(_) => !scope
            .fetch(db, Some((" AND id > ?", top)), false, 1)
            .await?
            .is_empty(),
    };
    let older = match cursor {
        AuditCursor::After(_) => !scope
            .fetch(db, Some((" AND id < ?", bottom)), true, 1)
            .await?
            .is_empty(),
        _ => more,
    };
    Ok(AuditPage {
        rows,
        newer: newer.then_some(top),
        older: older.then_some(bottom),
    })
}

/// A key's audit events, newest first (its detail page shows the latest 200).
pub async fn key_trail(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<Vec<AuditRow>> {
    let rows = sqlx::query_as::<_, AuditEventRow>(&format!(
        "SELECT {COLUMNS} FROM audit_events \
         WHERE tenant_id = $1 AND target_id = $2 ORDER BY id DESC LIMIT 200"
    ))
    .bind(tenant_id)
    .bind(public_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(AuditRow::from).collect())
}
