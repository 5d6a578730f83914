//! `Idempotency-Key` answers: the first call with a key runs and its answer is kept for 24
//! hours; the same key with the same request replays that answer, with another request it is
//! refused. A row is claimed before the call runs, so a concurrent twin finds it and waits for
//! the answer instead of running the operation again.

use crate::db::Db;
use latchkey_domain::error::AppResult;

/// How long an answer is replayed.
pub const RETAIN_MS: i64 = 24 * 3600 * 1000;
/// Longest key accepted (Stripe's limit).
pub const KEY_MAX: usize = 255;

/// What a call with a key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First of its kind: run it, then [`finish`] (or [`abandon`] on a server error).
    Fresh,
    /// Answered before: send this again.
    Replay { status: u16, body: String },
    /// The key was used with another request.
    Mismatch,
    /// Its twin is still running.
    InProgress,
}

/// Whether a presented key is usable: 1–255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= KEY_MAX && key.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(sqlx::FromRow)]
struct Kept {
    request_hash: String,
    status: Option<i64>,
    body: Option<String>,
}

/// Claims `key` for `request_hash`, or says what was there.
pub async fn begin(db: &Db, token_id: i64, key: &str, request_hash: &str) -> AppResult<Begin> {
    let now = db.clock.now_ms();
    // An expired answer is gone: the key starts afresh.
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE token_id = $1 AND key = $2 AND created_at < $3",
    )
    .bind(token_id)
    .bind(key)
    .bind(now - RETAIN_MS)
    .execute(&db.pool)
    .await?;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (token_id, key, request_hash, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(token_id)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(Begin::Fresh);
    }
    let kept = sqlx::query_as::<_, Kept>(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE token_id = $1 AND key = $2",
    )
    .bind(token_id)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match kept {
        // Abandoned between our insert and read: the caller may retry.
        None => Begin::InProgress,
        Some(k) if k.request_hash != request_hash => Begin::Mismatch,
        Some(Kept {
            status: Some(status),
            body,
            ..
        }) => Begin::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body: body.unwrap_or_default(),
        },
        Some(_) => Begin::InProgress,
    })
}

/// Keeps the answer to replay.
pub async fn finish(db: &Db, token_id: i64, key: &str, status: u16, body: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1, body = $2 WHERE token_id = $3 AND key = $4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(token_id)
    .bind(key)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Releases the key after a server error, so a retry runs the call again.
pub async fn abandon(db: &Db, token_id: i64, key: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND key = $2")
        .bind(token_id)
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets answers older than 24 hours (housekeeping).
pub async fn prune(db: &Db) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(db.clock.now_ms() - RETAIN_MS)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
