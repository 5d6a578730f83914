//! A key as the verifier reads it from storage, and what it keeps of it.

use super::KeyRecord;
use latchkey_domain::cidr::Allowlist;

pub(super) const KEY_COLUMNS: &str =
    "id, public_id, tenant_id, name, mode, scopes, allowlist, status, disabled_at, expires_at, \
     resource_type, digest";

/// The columns the verifier reads, digest included (compared again in constant time).
#[derive(sqlx::FromRow)]
pub(super) struct VerifyRow {
    id: i64,
    public_id: String,
    tenant_id: i64,
    name: String,
    mode: String,
    scopes: String,
    allowlist: String,
    status: String,
    disabled_at: Option<i64>,
    expires_at: Option<i64>,
    pub(super) resource_type: Option<String>,
    pub(super) digest: String,
}

impl TryFrom<VerifyRow> for KeyRecord {
    type Error = &'static str;

    fn try_from(row: VerifyRow) -> Result<Self, Self::Error> {
        Ok(KeyRecord {
            row_id: row.id,
            public_id: row.public_id,
            tenant_id: row.tenant_id,
            name: row.name,
            mode: row.mode.parse().map_err(|_| "stored mode is unknown")?,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            allowlist: Allowlist::parse_lines(&row.allowlist)
                .map_err(|_| "stored allowlist does not parse")?,
            revoked: row.status == "revoked",
            disabled: row.disabled_at.is_some(),
            expires_at: row.expires_at,
            // Filled in by the lookup when `resource_type` is set.
            resources: row
                .resource_type
                .map(|kind| crate::operator::resources::Limit {
                    kind,
                    ids: Vec::new(),
                }),
        })
    }
}
