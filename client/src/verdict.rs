//! What a verification answers: a [`Verdict`] for an allowed key, or a [`Rejection`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// An allowed key: who it is and what it may do. Holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The key's public id (`key_…`).
    pub key_id: String,
    /// The key's name, as its owner gave it.
    pub key_name: String,
    /// `live` or `test`.
    pub mode: String,
    /// Every scope the key holds.
    pub scopes: Vec<String>,
    /// The organisation the key belongs to.
    pub tenant: Tenant,
    /// The key's requests per minute (its plan's or the operator's figure; `0`: not limited
    /// here, every call is counted by Latchkey itself).
    pub limit_per_minute: u32,
}

/// The organisation of a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The organisation's public id (`org_…`).
    pub id: String,
    /// The SaaS's own id for it, when its operator API set one.
    pub external_id: Option<String>,
    /// Its short name.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// `starter`, `professional` or `enterprise`.
    pub plan: String,
    /// The operator's JSON object for this tenant (entitlements and the like).
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// Why a key was refused: the codes and statuses `/v1` answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Missing, malformed or unknown (401).
    InvalidApiKey,
    /// Revoked (401).
    KeyRevoked,
    /// Disabled by an owner (401).
    KeyDisabled,
    /// Past its expiry (401).
    KeyExpired,
    /// The caller's address is not on the key's allowlist (403).
    IpNotAllowed,
    /// The key lacks the scope (403).
    InsufficientScope,
    /// The tenant's plan does not include API access (403).
    PlanRequired,
    /// Over the key's per-minute budget (429).
    RateLimited,
    /// The operator suspended the tenant (403).
    TenantSuspended,
    /// The key is limited to other resources (403).
    ResourceNotAllowed,
    /// The key is limited to resources and the call named none (403).
    ResourceRequired,
    /// A code this client does not know yet (403).
    Other(String),
}

impl Code {
    /// Reads a `/v1` code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_api_key" => Code::InvalidApiKey,
            "key_revoked" => Code::KeyRevoked,
            "key_disabled" => Code::KeyDisabled,
            "key_expired" => Code::KeyExpired,
            "ip_not_allowed" => Code::IpNotAllowed,
            "insufficient_scope" => Code::InsufficientScope,
            "plan_required" => Code::PlanRequired,
            "rate_limited" => Code::RateLimited,
            "tenant_suspended" => Code::TenantSuspended,
            "resource_not_allowed" => Code::ResourceNotAllowed,
            "resource_required" => Code::ResourceRequired,
            other => Code::Other(other.to_owned()),
        }
    }

    /// The code as `/v1` writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::InvalidApiKey => "invalid_api_key",
            Code::KeyRevoked => "key_revoked",
            Code::KeyDisabled => "key_disabled",
            Code::KeyExpired => "key_expired",
            Code::IpNotAllowed => "ip_not_allowed",
            Code::InsufficientScope => "insufficient_scope",
            Code::PlanRequired => "plan_required",
            Code::RateLimited => "rate_limited",
            Code::TenantSuspended => "tenant_suspended",
            Code::ResourceNotAllowed => "resource_not_allowed",
            Code::ResourceRequired => "resource_required",
            Code::Other(s) => s,
        }
    }

    /// The HTTP status `/v1` answers this code with.
    pub fn status(&self) -> u16 {
        match self {
            Code::InvalidApiKey | Code::KeyRevoked | Code::KeyDisabled | Code::KeyExpired => 401,
            Code::RateLimited => 429,
            _ => 403,
        }
    }
}

/// A refused key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub code: Code,
    /// Latchkey's sentence for it.
    pub message: String,
    /// For [`Code::InsufficientScope`]: the scope that was needed.
    pub required_scope: Option<String>,
    /// For [`Code::RateLimited`]: seconds until the key may try again.
    pub retry_after_secs: Option<u64>,
    /// The key's public id, once the key was found (revoked, expired and the like).
    pub key_id: Option<String>,
    /// Its tenant's public id, likewise.
    pub tenant: Option<String>,
}

/// Why [`crate::Verifier::verify`] did not allow a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Refused, with the code `/v1` would answer.
    #[error("refused: {}", .0.code.as_str())]
    Refused(Box<Refusal>),
    /// No fresh verdict could be had (the change stream is silent past its lease and Latchkey
    /// does not answer): answer 503, never allow.
    #[error("unavailable: no fresh verdict can be had")]
    Unavailable,
}

impl Rejection {
    /// The HTTP status to answer with: 401, 403, 429 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Refused(r) => r.code.status(),
            Rejection::Unavailable => 503,
        }
    }

    /// The `/v1` code: `unavailable` for [`Rejection::Unavailable`].
    pub fn code(&self) -> &str {
        match self {
            Rejection::Refused(r) => r.code.as_str(),
            Rejection::Unavailable => "unavailable",
        }
    }

    /// The `/v1` error envelope for this rejection.
    pub fn envelope(&self) -> serde_json::Value {
        let (message, required_scope) = match self {
            Rejection::Refused(r) => (r.message.clone(), r.required_scope.clone()),
            Rejection::Unavailable => (
                "The API key cannot be verified right now; retry shortly.".to_owned(),
                None,
            ),
        };
        serde_json::json!({
            "error": {
                "code": self.code(),
                "message": message,
                "required_scope": required_scope,
            }
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_those_of_v1() {
        let table = [
            ("invalid_api_key", 401),
            ("key_revoked", 401),
            ("key_disabled", 401),
            ("key_expired", 401),
            ("ip_not_allowed", 403),
            ("insufficient_scope", 403),
            ("plan_required", 403),
            ("rate_limited", 429),
            ("tenant_suspended", 403),
            ("resource_not_allowed", 403),
            ("resource_required", 403),
            ("something_new", 403),
        ];
        for (code, status) in table {
            let c = Code::parse(code);
            assert_eq!(c.as_str(), code);
            assert_eq!(c.status(), status, "{code}");
        }
        assert_eq!(Rejection::Unavailable.status(), 503);
        assert_eq!(
            Rejection::Unavailable.envelope()["error"]["code"],
            "unavailable"
        );
    }
}
