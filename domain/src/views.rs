//! The shapes keys and their history take outside storage: produced by `store` from typed rows,
//! sent by server functions to the pages and by `/v1` to API clients. Plain data, no secrets.

use crate::keys::Mode;
use crate::Role;
use serde::{Deserialize, Serialize};

/// A key's state as users see it. Stored rows hold only `active` / `revoked` (and when it was
/// disabled); "expired" is derived from the expiry time at read, so it appears the moment the
/// time passes. A rolled key in its overlap is `Active` with `rolled_to` set, then `Expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Disabled,
    Revoked,
    Expired,
}

impl KeyStatus {
    /// The one mapping from a stored status (disabled, expiry) to what a key is now. Revoked
    /// and expired are final, so they win over a disable.
    pub fn of(stored: &str, disabled: bool, expires_at: Option<i64>, now_ms: i64) -> Self {
        match stored {
            "revoked" => KeyStatus::Revoked,
            _ if expires_at.is_some_and(|e| e <= now_ms) => KeyStatus::Expired,
            _ if disabled => KeyStatus::Disabled,
            _ => KeyStatus::Active,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Disabled => "disabled",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Disabled => "Disabled",
            KeyStatus::Revoked => "Revoked",
            KeyStatus::Expired => "Expired",
        }
    }
}

/// How soon "expiring" is: within this many milliseconds (7 days).
pub const EXPIRING_WITHIN_MS: i64 = 7 * 86_400_000;

/// Which keys a list shows. `None` (no filter) is every key but revoked ones, unless the list
/// asks to include them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyFilter {
    /// Working now (not disabled, revoked or expired), rolled keys in their overlap included.
    Active,
    /// Active and expiring within 7 days.
    Expiring,
    Disabled,
    Revoked,
    Expired,
}

impl KeyFilter {
    pub const ALL: [KeyFilter; 5] = [
        KeyFilter::Active,
        KeyFilter::Expiring,
        KeyFilter::Disabled,
        KeyFilter::Revoked,
        KeyFilter::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyFilter::Active => "active",
            KeyFilter::Expiring => "expiring",
            KeyFilter::Disabled => "disabled",
            KeyFilter::Revoked => "revoked",
            KeyFilter::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyFilter::Active => "Active",
            KeyFilter::Expiring => "Expiring within 7 days",
            KeyFilter::Disabled => "Disabled",
            KeyFilter::Revoked => "Revoked",
            KeyFilter::Expired => "Expired",
        }
    }
}

impl std::str::FromStr for KeyFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        KeyFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| "Use active, expiring, disabled, revoked or expired.".to_owned())
    }
}

/// How long a rolled key keeps working beside its replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Overlap {
    #[serde(rename = "now")]
    Now,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
}

impl Overlap {
    pub const ALL: [Overlap; 4] = [Overlap::Now, Overlap::Hour, Overlap::Day, Overlap::Week];

    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Now => "now",
            Overlap::Hour => "1h",
            Overlap::Day => "24h",
            Overlap::Week => "7d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Overlap::Now => "Now: the old key stops at once",
            Overlap::Hour => "1 hour",
            Overlap::Day => "24 hours",
            Overlap::Week => "7 days",
        }
    }

    pub fn millis(self) -> i64 {
        match self {
            Overlap::Now => 0,
            Overlap::Hour => 3_600_000,
            Overlap::Day => 86_400_000,
            Overlap::Week => 7 * 86_400_000,
        }
    }

    /// When the rolled key stops: after the overlap, never later than its own expiry.
    pub fn old_key_expiry(self, own_expiry: Option<i64>, now_ms: i64) -> i64 {
        let end = now_ms.saturating_add(self.millis());
        own_expiry.map_or(end, |e| e.min(end))
    }
}

impl std::str::FromStr for Overlap {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Overlap::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| "Use now, 1h, 24h or 7d.".to_owned())
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
    /// Unix milliseconds. A rolled key's is the end of its overlap.
    pub expires_at: Option<i64>,
    /// When it was disabled; `None` while enabled.
    pub disabled_at: Option<i64>,
    /// The key that replaced this one (it was rolled; it cannot be rolled again).
    pub rolled_to: Option<String>,
    /// The key this one replaced.
    pub rolled_from: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    /// When a leak report named this key, and the address it was found at.
    #[serde(default)]
    pub leaked_at: Option<i64>,
    #[serde(default)]
    pub leak_url: Option<String>,
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
    /// Resources (all of one type) the key is limited to; empty: not limited. Fixed once
    /// created, like scopes.
    #[serde(default)]
    pub resources: Vec<ResourceRef>,
}

/// One resource of the operator's declared types, e.g. `{"type": "account", "id": "acct_1"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
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
    /// What happened, as a sentence (never a secret).
    pub details: String,
}

/// One event of a tenant's audit log, as the Audit log page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The key's name (or member's email) as the event recorded it.
    pub target_name: Option<String>,
    pub client_ip: Option<String>,
    /// What changed, in one line (never a secret).
    pub summary: String,
}

/// The Audit log page's filters as the URL query carries them (empty: not filtered). Dates are
/// UTC days, `YYYY-MM-DD`, both inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// A key's `key_…` id or its name.
    pub key: String,
    pub actor: String,
    pub action: String,
    pub from: String,
    pub to: String,
}

impl AuditQuery {
    /// `(name, value)` of each filter that is set, in a fixed order (URLs, the export's record).
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("key", self.key.as_str()),
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    /// `key=…&action=…` (percent-encoded), plus `extra` pairs, for links that keep the filter.
    pub fn to_query_string(&self, extra: &[(&str, String)]) -> String {
        self.pairs()
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One page of the audit log, newest first, with the cursors beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub rows: Vec<AuditEntry>,
    /// `after=` this for the newer page.
    pub newer: Option<i64>,
    /// `before=` this for the older page.
    pub older: Option<i64>,
    /// The server's time, for "5 min ago".
    pub now: i64,
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

/// One member of a tenant, as the Members page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
    pub last_sign_in_at: Option<i64>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

/// An invitation, as the Members page (pending ones) and the accept page show it. Never the
/// token: only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: i64,
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: InvitationState,
}

#[cfg(test)]
mod tests;
