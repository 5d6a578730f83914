//! Response types more than one endpoint answers with (`whoami` and `verify`).

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeySummary {
    pub id: String,
    pub name: String,
    pub mode: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSummary {
    pub slug: String,
    pub name: String,
    /// `starter`, `professional` or `enterprise`.
    pub plan: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitSummary {
    /// Requests allowed per window.
    pub limit: u32,
    pub remaining: u32,
    pub window_secs: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub key: KeySummary,
    pub tenant: TenantSummary,
    pub rate_limit: RateLimitSummary,
}

impl KeySummary {
    pub fn of(k: &store::verify::KeyRecord) -> Self {
        Self {
            id: k.public_id.clone(),
            name: k.name.clone(),
            mode: k.mode.as_str().to_owned(),
            scopes: k.scopes.clone(),
        }
    }
}

impl TenantSummary {
    pub fn of(t: &store::verify::TenantRecord) -> Self {
        Self {
            slug: t.slug.clone(),
            name: t.name.clone(),
            plan: t.plan.as_str().to_owned(),
        }
    }
}
