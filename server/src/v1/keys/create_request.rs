//! What `POST /v1/keys` takes and answers, with the field schemas that state what the server
//! enforces (each says what its field means here).

use crate::v1::schemas;
use latchkey_domain::views::KeyView;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, Object};
use utoipa::ToSchema;

/// A new key. Any other field is refused (400 `invalid_request`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    #[schema(schema_with = create_name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = create_description)]
    pub description: String,
    #[schema(schema_with = create_mode)]
    pub mode: Option<String>,
    #[schema(schema_with = create_scopes)]
    pub scopes: Vec<String>,
    #[schema(schema_with = create_allowlist)]
    pub allowlist: Option<Vec<String>>,
    #[schema(schema_with = create_expires_on)]
    pub expires_on: Option<String>,
    /// Resources (of one operator-declared type) the key is limited to; omitted or empty:
    /// not limited. A key limited to resources can only create keys limited to some of its
    /// own. Fixed once created.
    #[serde(default)]
    #[schema(schema_with = create_resources)]
    pub resources: Vec<latchkey_domain::views::ResourceRef>,
}

fn create_resources() -> Array {
    schemas::resources()
}

// The field schemas state what the server enforces; each says what its field means here.
fn create_name() -> Object {
    schemas::key_name(false, "The key's name.")
}

fn create_description() -> Object {
    schemas::free_text(false, "What the key is for; default empty.")
}

fn create_mode() -> Object {
    schemas::mode(
        "`live` or `test`; omitted or `null`: the calling key's mode. A test key cannot create \
         live keys (403 `mode_not_allowed`).",
    )
}

fn create_scopes() -> Array {
    schemas::scopes(
        "From the scope catalogue; each must be held by the calling key (else 403 \
         `insufficient_scope`).",
    )
}

fn create_allowlist() -> Array {
    schemas::allowlist(
        "Omitted or `null`: the calling key's allowlist. When the calling key has one, every \
         entry must lie within it (so the list may not be empty).",
    )
}

fn create_expires_on() -> Object {
    schemas::expiry_date(
        "Last day the key works. Omitted or `null`: the calling key's expiry (none if it \
         has none); never later than the calling key's expiry.",
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: KeyView,
    /// The plaintext key. Shown in this response only: store it now.
    pub secret: String,
}
