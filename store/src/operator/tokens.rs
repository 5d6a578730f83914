//! Operator tokens: what the SaaS backend calls `/v1/admin` with. Created by the operator's
//! CLI and printed once, stored as HMAC digests under the pepper (like keys), listed, revoked.
//! They are never API keys: `lko_` does not parse as a key, and a key never passes here.

use crate::audit::{Actor, AuditAction, Event};
use crate::db::{Db, OnUnique};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::{Digest, Pepper, Secret};
use latchkey_domain::operator;

/// A token as listed (never its secret or digest).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OperatorToken {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub scopes: String,
    pub masked: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl OperatorToken {
    /// Whether it holds `scope` (its list is stored space-separated).
    pub fn holds(&self, scope: &str) -> bool {
        self.scopes.split_whitespace().any(|s| s == scope)
    }

    /// The audit log's actor name: `operator:<name>`.
    pub fn actor_name(&self) -> String {
        format!("operator:{}", self.name)
    }
}

const COLUMNS: &str = "id, public_id, name, scopes, masked, created_at, last_used_at, revoked_at";

/// Creates a token named `name` holding `scopes` (every scope when empty). The secret is
/// returned once and never stored.
pub async fn create(
    db: &Db,
    pepper: &Pepper,
    name: &str,
    scopes: &[String],
) -> AppResult<(OperatorToken, Secret)> {
    operator::check_id(name).map_err(|m| AppError::field("name", m))?;
    if let Some(bad) = scopes.iter().find(|s| !operator::is_scope(s)) {
        let known: Vec<&str> = operator::SCOPES.iter().map(|(s, _)| *s).collect();
        return Err(AppError::field(
            "scope",
            format!("Unknown scope {bad:?}; use {}.", known.join(", ")),
        ));
    }
    let scopes = if scopes.is_empty() {
        operator::SCOPES
            .iter()
            .map(|(s, _)| (*s).to_owned())
            .collect()
    } else {
        scopes.to_vec()
    };
    let secret = operator::generate_token();
    let digest = Digest::of(pepper, secret.expose());
    let public_id = format!("opt_{}", latchkey_domain::keys::random_base62(16));
    let token = sqlx::query_as::<_, OperatorToken>(&format!(
        "INSERT INTO operator_tokens (public_id, name, scopes, digest, masked, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(&public_id)
    .bind(name)
    .bind(scopes.join(" "))
    .bind(digest.to_hex())
    .bind(secret.masked())
    .bind(db.clock.now_ms())
    .fetch_one(&db.pool)
    .await
    .on_unique("name", format!("A token named {name:?} already exists."))?;
    audit(db, AuditAction::OperatorTokenCreated, &token).await?;
    tracing::info!(name, "operator token created");
    Ok((token, secret))
}

/// Every token, newest first.
pub async fn list(db: &Db) -> AppResult<Vec<OperatorToken>> {
    Ok(sqlx::query_as::<_, OperatorToken>(&format!(
        "SELECT {COLUMNS} FROM operator_tokens ORDER BY id DESC"
    ))
    .fetch_all(&db.pool)
    .await?)
}

/// Revokes the token named `name` (or with that public id); at once, on every replica (each
/// call reads storage). Revoking a revoked token is a no-op.
pub async fn revoke(db: &Db, name: &str) -> AppResult<OperatorToken> {
    let done = sqlx::query(
        "UPDATE operator_tokens SET revoked_at = $1 \
         WHERE (name = $2 OR public_id = $2) AND revoked_at IS NULL",
    )
    .bind(db.clock.now_ms())
    .bind(name)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let token = sqlx::query_as::<_, OperatorToken>(&format!(
        "SELECT {COLUMNS} FROM operator_tokens WHERE name = $1 OR public_id = $1"
    ))
    .bind(name)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    if done == 1 {
        audit(db, AuditAction::OperatorTokenRevoked, &token).await?;
    }
    Ok(token)
}

/// Token events belong to no organisation: they are the operator's own.
async fn audit(db: &Db, action: AuditAction, token: &OperatorToken) -> AppResult<()> {
    let event = Event {
        tenant_id: None,
        action,
        target_type: Some("operator_token"),
        target_id: Some(token.public_id.clone()),
        details: serde_json::json!({ "name": token.name, "scopes": token.scopes }),
    };
    crate::audit::record_now(db, &Actor::operator(), event).await
}

/// The live token `presented` is, if any. Shape and checksum first (junk costs no storage);
/// the digest is compared by the unique index, then again in constant time.
pub async fn authenticate(
    db: &Db,
    pepper: &Pepper,
    presented: &str,
) -> AppResult<Option<OperatorToken>> {
    if !operator::is_token(presented) {
        return Ok(None);
    }
    let digest = Digest::of(pepper, presented);
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        token: OperatorToken,
        digest: String,
    }
    let row = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS}, digest FROM operator_tokens WHERE digest = $1 AND revoked_at IS NULL"
    ))
    .bind(digest.to_hex())
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row.filter(|r| Digest::from_hex(&r.digest).is_some_and(|d| d.ct_eq(&digest)))
    else {
        return Ok(None);
    };
    // Last use to the minute: not a write per call.
    let now = db.clock.now_ms();
    if row.token.last_used_at.is_none_or(|t| now - t > 60_000) {
        sqlx::query("UPDATE operator_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(row.token.id)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(row.token))
}
