//! Usage posted by host processes that verified keys themselves (`POST /v1/usage`, sent by the
//! `latchkey-client` crate): each event joins the same queue as `/v1`'s own, so last used, the
//! hourly counters, the request log and its per-key refusal budget stay true.

use super::{clipped, Usage, UsageEvent};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use std::collections::HashMap;

/// Most events one post may carry (the body limit holds it smaller still).
pub const MAX_EVENTS: usize = 1000;

/// How far back a posted event may be dated; older ones are dated this far back.
pub const MAX_AGE_MS: i64 = 3_600_000;

/// One request a host answered after verifying its key in process.
#[derive(Debug, Clone)]
pub struct PostedEvent {
    /// The key's public id (`key_…`), from its verdict.
    pub key_id: String,
    pub status: u16,
    pub method: String,
    pub path: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// What became of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Posted {
    pub accepted: usize,
    /// Events naming no key there is (deleted since, or never one): skipped.
    pub unknown: usize,
}

/// Queues `events` (at most [`MAX_EVENTS`]) as usage of their keys.
pub async fn record(db: &Db, usage: &Usage, events: Vec<PostedEvent>) -> AppResult<Posted> {
    let now = db.clock.now_ms();
    let mut keys: HashMap<String, Option<(i64, i64)>> = HashMap::new();
    let mut posted = Posted::default();
    for e in events.into_iter().take(MAX_EVENTS) {
        let known = match keys.get(&e.key_id) {
            Some(k) => *k,
            None => {
                let row = sqlx::query_as::<_, (i64, i64)>(
                    "SELECT tenant_id, id FROM api_keys WHERE public_id = $1",
                )
                .bind(&e.key_id)
                .fetch_optional(&db.pool)
                .await?;
                keys.insert(e.key_id.clone(), row);
                row
            }
        };
        let Some((tenant_id, key_row_id)) = known else {
            posted.unknown += 1;
            continue;
        };
        usage.record(UsageEvent {
            tenant_id,
            key_row_id,
            at_ms: e.at_ms.clamp(now - MAX_AGE_MS, now),
            method: clipped(&e.method),
            path: clipped(&e.path),
            status: e.status,
            client_ip: None,
            latency_us: 0,
            request_id: e.request_id,
            refused: e.status >= 400,
        });
        posted.accepted += 1;
    }
    Ok(posted)
}
