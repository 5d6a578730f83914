//! People: creating a user (the operator's CLI, the demo seed, an accepted invitation) under
//! the one password rule, and finding one by email.

use super::{normalise_email, validate_email};
use crate::db::{now_ms, Db, OnUnique};
use latchkey_domain::error::{AppError, AppResult, FieldError};
use latchkey_domain::members::check_password;

/// A new person's name and password, checked (the one password rule); the email is checked
/// by the caller.
pub fn check_new_user(email: &str, name: &str, password: &str) -> AppResult<()> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || latchkey_domain::text::first_unsafe(name).is_some()
    {
        errors.push(FieldError {
            field: "name".into(),
            message: "Enter a name of 1 to 100 characters.".into(),
        });
    }
    if let Err(m) = check_password(password, email) {
        errors.push(FieldError {
            field: "password".into(),
            message: m.into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates a user (the operator's CLI, the demo seed): the operator vouches for the address,
/// so the account counts as verified. A taken email is a field-level conflict.
pub async fn create_user(db: &Db, email: &str, name: &str, password: &str) -> AppResult<i64> {
    let email = validate_email(email)?;
    check_new_user(&email, name, password)?;
    let hash = db.hasher.hash(password.to_owned()).await?;
    let mut conn = db.pool.acquire().await?;
    insert_user(&mut conn, &email, name, &hash, true).await
}

/// Inserts a user whose email, name and password were checked. `verified`: whether the
/// owner of the address is known to hold the account (see `users.email_verified_at`).
pub(crate) async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    email: &str,
    name: &str,
    password_hash: &str,
    verified: bool,
) -> AppResult<i64> {
    let now = now_ms();
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (email, name, password_hash, created_at, email_verified_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(email)
    .bind(name.trim())
    .bind(password_hash)
    .bind(now)
    .bind(verified.then_some(now))
    .fetch_one(&mut *conn)
    .await
    .on_unique("email", "A user with this email already exists.")
}

pub async fn user_id_by_email(db: &Db, email: &str) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1")
            .bind(normalise_email(email))
            .fetch_optional(&db.pool)
            .await?,
    )
}
