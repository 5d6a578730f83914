//! What verification hands out: the cached key and tenant records, a verified key with its
//! budget, and a refusal.

use super::RateInfo;
use latchkey_domain::cidr::Allowlist;
use latchkey_domain::keys::Mode;
use latchkey_domain::verify::{self as rules, Rejection};
use latchkey_domain::Plan;
use std::sync::Arc;

/// What the cache holds for a key whose digest matched. Never the secret or the digest.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub row_id: i64,
    pub public_id: String,
    pub tenant_id: i64,
    pub name: String,
    pub mode: Mode,
    pub scopes: Vec<String>,
    pub allowlist: Allowlist,
    pub revoked: bool,
    pub disabled: bool,
    pub expires_at: Option<i64>,
    /// What the key is limited to (`None`: any resource).
    pub resources: Option<crate::operator::resources::Limit>,
}

#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub id: i64,
    pub public_id: String,
    pub external_id: Option<String>,
    pub slug: String,
    pub name: String,
    pub plan: Plan,
    /// Suspended by the operator: every key refused.
    pub suspended: bool,
    /// The operator's JSON object, handed to host services with each verdict.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The operator's per-key rate for this tenant, over the plan's.
    pub rate_per_minute: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub key: Arc<KeyRecord>,
    pub tenant: Arc<TenantRecord>,
    pub rate: RateInfo,
}

impl Verified {
    pub fn require_scope(&self, scope: &str) -> Result<(), Rejection> {
        rules::require_scope(&self.key.scopes, scope)
    }

    /// The resource rule for a request naming `asked` (`type`, `id`), or none.
    pub fn require_resource(&self, asked: Option<(&str, &str)>) -> Result<(), Rejection> {
        let limited = self
            .key
            .resources
            .as_ref()
            .map(|l| (l.kind.as_str(), l.ids.as_slice()));
        rules::check_resource(limited, asked)
    }
}

/// A refused key. `key` is set once the digest matched, so the refusal can be logged against it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub rejection: Rejection,
    pub key: Option<Arc<KeyRecord>>,
    pub rate: Option<RateInfo>,
}

#[derive(Debug)]
pub enum VerifyError {
    Refused(Refusal),
    /// Storage failed; logged. Answered 503, never as a verdict on the key.
    Unavailable,
}

impl From<Rejection> for VerifyError {
    fn from(rejection: Rejection) -> Self {
        VerifyError::Refused(Refusal {
            rejection,
            key: None,
            rate: None,
        })
    }
}
