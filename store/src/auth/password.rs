//! Changing one's own password, and the operator's single-use reset links. Both go through the
//! one password rule (`latchkey_domain::members::check_password`) and end other sessions.

use super::{hash_password, token_hash, verify_password, Session};
use crate::audit::{record_now, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::check_password;
use serde_json::json;

/// A reset link lasts this long.
pub const RESET_HOURS: i64 = 24;

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
    let phc = sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
        .bind(session.user_id)
        .fetch_one(&db.pool)
        .await?;
    if !verify_password(current, phc).await? {
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = hash_password(new).await?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
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
    let hash = hash_password(new).await?;
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
    tx.commit().await?;
    let event = Event::user(None, AuditAction::PasswordReset, row.user_id, json!({}));
    record_now(db, &Actor::named("reset-link"), event).await
}
