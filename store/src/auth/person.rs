//! The person behind a session cookie, whether or not they belong to any organisation: what an
//! invitation link needs, since a person whose last membership was removed has no tenant to act
//! in (so no [`Session`](super::Session)) but must still be able to join one.

use super::{millis, token_hash};
use crate::db::{now_ms, Db};
use latchkey_domain::error::AppResult;
use std::time::Duration;

/// A signed-in person, without a tenant.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: i64,
    pub email: String,
    pub name: String,
}

/// The person a live session cookie stands for (same lifetime and idle rules as
/// [`session`](super::session)); `None` for no such session. A portal session is not one: it
/// stands for a person only inside its own tenant.
pub async fn signed_in_person(db: &Db, token: &str, idle: Duration) -> AppResult<Option<Person>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: i64,
        email: String,
        name: String,
    }
    let now = now_ms();
    let row = sqlx::query_as::<_, Row>(
        "SELECT s.user_id, u.email, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
         AND s.portal = 0",
    )
    .bind(token_hash(token))
    .bind(now)
    .bind(now.saturating_sub(millis(idle)))
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| Person {
        user_id: r.user_id,
        email: r.email,
        name: r.name,
    }))
}
