//! The shapes keys and their history take outside storage: produced by `store` from typed rows,
//! sent by server functions to the pages and by `/v1` to API clients. Plain data, no secrets.

use crate::keys::Mode;
use crate::Role;
use serde::{Deserialize, Serialize};

/// A key's state as users see it. Stored rows hold only `active` / `revoked`; "expired" is
/// derived from the expiry time at read, so it appears the moment the time passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    /// The one mapping from a stored status (and expiry) to what a key is now.
    pub fn of(stored: &str, expires_at: Option<i64>, now_ms: i64) -> Self {
        match stored {
            "revoked" => KeyStatus::Revoked,
            _ if expires_at.is_some_and(|e| e <= now_ms) => KeyStatus::Expired,
            _ => KeyStatus::Active,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Revoked => "Revoked",
            KeyStatus::Expired => "Expired",
        }
    }
}

/// A key as anyone allowed to see it sees it: never the secret, never the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ApiKey))]
pub struct KeyView {
    /// Public id (`key_…`), safe to log and share.
    pub id: String,
    pub name: String,
    pub description: String,
    pub mode: Mode,
    pub scopes: Vec<String>,
    /// CIDRs; empty allows any address.
    pub allowlist: Vec<String>,
    /// e.g. `lk_live_Ab3x…9fQ2`.
    pub masked: String,
    pub status: KeyStatus,
    /// Unix milliseconds.
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

/// What creating a key asks for (the dialog, `/v1`, the CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    pub name: String,
    pub description: String,
    pub mode: Option<Mode>,
    pub scopes: Vec<String>,
    /// One CIDR or address a line.
    pub allowlist: String,
    /// `YYYY-MM-DD` (the key works through the end of that UTC day), or empty for never.
    pub expires_on: String,
}

/// What editing a key may change: never its mode or scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEdit {
    pub id: String,
    pub name: String,
    pub description: String,
    pub allowlist: String,
}

/// One event of a key's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub details: String,
}

/// One request made with a key, as its request log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub at: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_ip: String,
    pub latency_us: i64,
    pub request_id: String,
}

/// A tenant the signed-in person belongs to, and their role there (the tenant switcher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantChoice {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_status_maps_to_one_state() {
        let rows = [
            ("active", None, KeyStatus::Active),
            ("active", Some(2_000), KeyStatus::Active),
            ("active", Some(1_000), KeyStatus::Expired),
            ("active", Some(999), KeyStatus::Expired),
            ("revoked", Some(999), KeyStatus::Revoked),
            ("revoked", None, KeyStatus::Revoked),
        ];
        for (stored, expires, want) in rows {
            assert_eq!(
                KeyStatus::of(stored, expires, 1_000),
                want,
                "{stored} {expires:?}"
            );
        }
    }
}
