//! Changing one's own password, and the operator's single-use reset links. Both go through the
//! one password rule (`latchkey_domain::members::check_password`), end other sessions, and
//! spend every other outstanding reset link. Guesses of the current password are budgeted per
//! person, so a stolen session cannot guess it without limit.

use super::{token_hash, Session};
use crate::audit::{record_now, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::check_password;
use serde_json::json;

/// A reset link lasts this long.
pub const RESET_HOURS: i64 = 24;

/// Wrong current passwords a person may give per window; past it, 429 until the window ends.
pub const WRONG_CURRENT_MAX: i64 = 5;
pub const WRONG_CURRENT_WINDOW_MS: i64 = 15 * 60_000;

/// The plaintext reset token: returned once to the operator, stored only as its SHA-256.
pub struct ResetToken(String);

impl ResetToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Changes the signed-in person's password: the current one is required, and every other
/// session of theirs ends (`keep` is this one's cookie token).
pub async fn change_password(
    db: &Db,
    session: &Session,
    keep: &str,
    current: String,
    new: String,
) -> AppResult<()> {
    check_password(&new, &session.email).map_err(|m| AppError::field("new_password", m))?;
    #[derive(sqlx::FromRow)]
    struct Row {
        password_hash: String,
        password_failures: i64,
        password_failures_since: Option<i64>,
    }
    let row = sqlx::query_as::<_, Row>(
        "SELECT password_hash, password_failures, password_failures_since FROM users WHERE id = $1",
    )
    .bind(session.user_id)
    .fetch_one(&db.pool)
    .await?;
    let now = db.clock.now_ms();
    if let Some(since) = row.password_failures_since {
        let ends = since.saturating_add(WRONG_CURRENT_WINDOW_MS);
        if ends > now && row.password_failures >= WRONG_CURRENT_MAX {
            tracing::warn!(
                user_id = session.user_id,
                "password change refused: too many wrong current passwords"
            );
            let secs = u64::try_from((ends - now + 999) / 1000).unwrap_or(1);
            return Err(AppError::RateLimited {
                retry_after_secs: secs.max(1),
            });
        }
    }
    if !db.hasher.verify(current, row.password_hash).await? {
        // A window starts at the first failure after the last one ended.
        sqlx::query(
            "UPDATE users SET \
             password_failures = CASE WHEN password_failures_since IS NULL \
               OR password_failures_since <= $2 THEN 1 ELSE password_failures + 1 END, \
             password_failures_since = CASE WHEN password_failures_since IS NULL \
               OR password_failures_since <= $2 THEN $3 ELSE password_failures_since END \
             WHERE id = $1",
        )
        .bind(session.user_id)
        .bind(now - WRONG_CURRENT_WINDOW_MS)
        .bind(now)
        .execute(&db.pool)
        .await?;
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = db.hasher.hash(new).await?;
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_failures = 0, \
         password_failures_since = NULL WHERE id = $2",
    )
    .bind(hash)
    .bind(session.user_id)
    .execute(&mut *tx)
    .await?;
    spend_resets(&mut tx, session.user_id, now).await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(session.user_id)
        .bind(token_hash(keep))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    let event = Event::user(
        Some(session.tenant_id),
        AuditAction::PasswordChanged,
        session.user_id,
        json!({ "other_sessions_ended": ended }),
    );
    record_now(db, &session.actor(), event).await
}

/// Issues a reset link's token for the person with `email` (the operator's CLI).
pub async fn issue_reset(db: &Db, email: &str) -> AppResult<ResetToken> {
    let user_id = super::user_id_by_email(db, email)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = ResetToken(format!("lkr_{}", latchkey_domain::keys::random_base62(40)));
    let now = db.clock.now_ms();
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(token.expose()))
    .bind(user_id)
    .bind(now)
    .bind(now + RESET_HOURS * 3_600_000)
    .execute(&db.pool)
    .await?;
    let event = Event::user(None, AuditAction::PasswordResetIssued, user_id, json!({}));
    record_now(db, &Actor::operator(), event).await?;
    Ok(token)
}

/// Sets a new password through a reset link: once, before it expires; every session ends.
pub async fn reset_password(db: &Db, token: &str, new: String) -> AppResult<()> {
    const GONE: &str = "This reset link was used or has expired. Ask your operator for a new one.";
    let hash_of = token_hash(token);
    let now = db.clock.now_ms();
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: i64,
        email: String,
    }
    let row = sqlx::query_as::<_, Row>(
        "SELECT r.user_id, u.email FROM password_resets r JOIN users u ON u.id = r.user_id \
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2",
    )
    .bind(&hash_of)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| AppError::Conflict(GONE.to_owned()))?;
    check_password(&new, &row.email).map_err(|m| AppError::field("new_password", m))?;
    let hash = db.hasher.hash(new).await?;
    let mut tx = db.pool.begin().await?;
    let used = sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(&hash_of)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used != 1 {
        return Err(AppError::Conflict(GONE.to_owned()));
    }
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(row.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(row.user_id)
        .execute(&mut *tx)
        .await?;
    spend_resets(&mut tx, row.user_id, now).await?;
    tx.commit().await?;
    let event = Event::user(None, AuditAction::PasswordReset, row.user_id, json!({}));
    record_now(db, &Actor::named("reset-link"), event).await
}

/// Spends every reset link of the person still outstanding: once the password changed, a link
/// issued before (perhaps to someone who should no longer have it) must not change it again.
async fn spend_resets(tx: &mut sqlx::AnyConnection, user_id: i64, now: i64) -> AppResult<()> {
    sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
