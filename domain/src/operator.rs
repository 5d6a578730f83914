//! The operator API's rules (issue 24): the `lko_` token format, the scopes a token holds, a
//! tenant's status, and what the SaaS may send as ids, metadata, requirements and resources.
//! Pure: `store` enforces these, the CLI and `/v1/admin` report their messages.

use crate::keys::{checksum, CHECKSUM_LEN, RANDOM_LEN};
use serde::{Deserialize, Serialize};

/// Operator tokens: `lko_`, 32 base62 characters, 6 of CRC32 (the key format's checksum, so
/// secret scanners recognise them the same way).
pub const TOKEN_PREFIX: &str = "lko_";
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

/// Whether `token` has the operator token's shape and checksum. No storage touched.
pub fn is_token(token: &str) -> bool {
    let Some(body) = token.strip_prefix(TOKEN_PREFIX) else {
        return false;
    };
    if token.len() != TOKEN_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, sum) = body.as_bytes().split_at(RANDOM_LEN);
    checksum(random) == sum
}

/// A fresh operator token (its random part from the OS CSPRNG).
#[cfg(feature = "secrets")]
pub fn generate_token() -> crate::keys::Secret {
    let random = crate::keys::random_base62(RANDOM_LEN);
    let sum = checksum(random.as_bytes());
    let mut s = String::with_capacity(TOKEN_LEN);
    s.push_str(TOKEN_PREFIX);
    s.push_str(&random);
    s.extend(sum.iter().map(|&b| char::from(b)));
    crate::keys::Secret::from_generated(s)
}

/// What an operator token may do. A token created without `--scope` holds them all.
pub const SCOPES: &[(&str, &str)] = &[
    ("tenants:read", "Read tenants and their audit log"),
    (
        "tenants:write",
        "Create, update, suspend and delete tenants; set requirements",
    ),
    ("members:read", "List a tenant's members"),
    ("members:write", "Add, change and remove members"),
    (
        "resources:write",
        "Add and remove resources keys can be limited to",
    ),
    (
        "portal:write",
        "Mint portal links (sign-ins for members) and end portal sessions",
    ),
];

/// Whether `scope` is one an operator token can hold.
pub fn is_scope(scope: &str) -> bool {
    SCOPES.iter().any(|(s, _)| *s == scope)
}

/// A tenant's state as the operator sets it. `Deleted` is reached only by `DELETE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
    Deleted,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(TenantStatus::Active),
            "suspended" => Some(TenantStatus::Suspended),
            "deleted" => Some(TenantStatus::Deleted),
            _ => None,
        }
    }
}

/// Longest external id, requirement id or resource id (the SaaS's own identifiers).
pub const ID_MAX: usize = 128;
/// Most bytes of a tenant's metadata (a JSON object), as serialised.
pub const METADATA_MAX_BYTES: usize = 1024;
/// Most requirements per tenant, and most characters of a label or resource name.
pub const REQUIREMENTS_MAX: usize = 20;
pub const LABEL_MAX: usize = 100;
/// Most resources one key may be limited to.
pub const KEY_RESOURCES_MAX: usize = 50;

/// An identifier the SaaS chooses: 1–128 of letters, digits and `_ - . : @ |`. Nothing that
/// needs escaping in a path, a log or a terminal.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:@|".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Use 1 to {ID_MAX} letters, digits and _ - . : @ | (no spaces)."
        ))
    }
}

/// A label or name people read: 1–100 characters after trimming, no control or
/// text-direction characters.
pub fn check_label(label: &str) -> Result<(), String> {
    let trimmed = label.trim();
    if let Some(msg) = crate::text::unsafe_text_error(label) {
        return Err(msg);
    }
    if trimmed.is_empty() || trimmed.chars().count() > LABEL_MAX {
        return Err(format!("Use 1 to {LABEL_MAX} characters."));
    }
    Ok(())
}

/// A resource type the operator declares: `account=Bank account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceType {
    pub name: String,
    pub label: String,
}

impl std::str::FromStr for ResourceType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, label) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: use type=Label, e.g. account=Bank account"))?;
        let (name, label) = (name.trim(), label.trim());
        let name_ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(format!(
                "{name:?}: a resource type is 1 to 32 of a-z, 0-9 and _"
            ));
        }
        check_label(label).map_err(|e| format!("{label:?}: {e}"))?;
        Ok(ResourceType {
            name: name.to_owned(),
            label: label.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_own_prefix_and_the_key_checksum() {
        let random = "A".repeat(RANDOM_LEN);
        let sum: String = checksum(random.as_bytes())
            .iter()
            .map(|&b| char::from(b))
            .collect();
        let good = format!("lko_{random}{sum}");
        assert!(is_token(&good));
        for bad in [
            format!("lko_{random}000000"),
            format!("lk_live_{random}{sum}"),
            format!("lko_{random}{sum}x"),
            "lko_".to_owned(),
            String::new(),
        ] {
            assert!(!is_token(&bad), "{bad}");
        }
        // An operator token is never a key, and a key never an operator token.
        assert!(crate::keys::parse(&good).is_err());
    }

    #[test]
    fn ids_labels_and_types() {
        for ok in ["acme", "org_123", "a.b-c:d@e|f", &"x".repeat(ID_MAX)] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " a",
            "a/b",
            "a b",
            "é",
            &"x".repeat(ID_MAX + 1),
            "a\u{0}",
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_label("KYB review complete").is_ok());
        assert!(check_label("  ").is_err());
        assert!(check_label("evil\u{202e}").is_err());
        assert!(check_label(&"x".repeat(LABEL_MAX + 1)).is_err());
        let t: ResourceType = "account=Bank account".parse().expect("parses");
        assert_eq!(
            (t.name.as_str(), t.label.as_str()),
            ("account", "Bank account")
        );
        for bad in ["account", "Account=X", "=X", "a-b=X", "account="] {
            assert!(bad.parse::<ResourceType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            TenantStatus::Active,
            TenantStatus::Suspended,
            TenantStatus::Deleted,
        ] {
            assert_eq!(TenantStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(TenantStatus::parse("gone"), None);
    }
}
