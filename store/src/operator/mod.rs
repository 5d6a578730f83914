//! The operator API's storage (issue 24): tokens, tenants and members keyed by the SaaS's own
//! ids, minting gates, resources, and `Idempotency-Key` answers. `/v1/admin` and the CLI both
//! call these, so they share validation, audit events and cache invalidation.

pub mod idempotency;
pub mod members;
pub mod requirements;
pub mod resources;
pub mod tenants;
pub mod tokens;

use crate::audit::Actor;
use crate::db::Db;
use crate::verify::Verifier;
use latchkey_domain::operator::ResourceType;

/// What the operator's writes need: storage, this process's verifier (to drop what it cached
/// at once; other processes hear the triggers) when there is one, and the declared resource
/// types. The server builds it from its state, the CLI from its flags.
#[derive(Clone, Copy)]
pub struct Ops<'a> {
    pub db: &'a Db,
    pub verifier: Option<&'a Verifier>,
    pub resource_types: &'a [ResourceType],
}

impl<'a> From<&'a crate::AppState> for Ops<'a> {
    fn from(state: &'a crate::AppState) -> Self {
        Self {
            db: &state.db,
            verifier: Some(&state.verifier),
            resource_types: &state.settings.resource_types,
        }
    }
}

impl Ops<'_> {
    pub(crate) fn forget_tenant(&self, tenant_id: i64) {
        if let Some(v) = self.verifier {
            v.forget_tenant(tenant_id);
        }
    }

    pub(crate) async fn forget_key(&self, tenant_id: i64, public_id: &str) {
        if let Some(v) = self.verifier {
            v.forget_key(tenant_id, public_id).await;
        }
    }
}

/// Who is calling: the CLI (`operator`) or a token (`operator:<name>`, with the call's
/// `Idempotency-Key`, which every audit event of the call carries).
#[derive(Debug, Clone)]
pub struct Call {
    pub actor: Actor,
}

impl Call {
    pub fn cli() -> Self {
        Self {
            actor: Actor::operator(),
        }
    }

    pub fn token(name: &str, idempotency_key: Option<String>) -> Self {
        Self {
            actor: Actor {
                idempotency_key,
                ..Actor::named(&format!("operator:{name}"))
            },
        }
    }
}

/// A write transaction's first statement: the tenant row's write lock. It serialises the
/// operator's writes to one tenant on PostgreSQL, and on SQLite it takes the write lock up
/// front (a transaction that reads first cannot upgrade once another writer has committed).
pub(crate) async fn lock_tenant(
    tx: &mut sqlx::AnyConnection,
    tenant_id: i64,
) -> latchkey_domain::error::AppResult<()> {
    let n = sqlx::query("UPDATE tenants SET key_seq = key_seq WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(latchkey_domain::error::AppError::NotFound);
    }
    Ok(())
}
