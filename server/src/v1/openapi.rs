//! The OpenAPI 3 document, generated from the handlers' annotations (`utoipa`). A test checks
//! it against the routes the router really answers.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Latchkey API",
        description = "Key-authenticated API: send `Authorization: Bearer lk_live_…` (or Basic with the key as user and an empty password). Errors are `{\"error\": {\"code\", \"message\", \"request_id\"}}`."
    ),
    paths(
        super::keys::whoami,
        super::keys::list,
        super::keys::create,
        super::keys::get,
        super::keys::update,
        super::keys::revoke,
        super::audit::list,
        super::verify::verify,
    ),
    components(schemas(ErrorBody, ErrorDetail, super::FieldProblem)),
    modifiers(&Security),
    tags(
        (name = "keys", description = "API keys of the calling key's tenant"),
        (name = "audit", description = "The tenant's append-only audit log"),
        (name = "verify", description = "Verification for the host product's services"),
    )
)]
pub struct ApiDoc;

/// The error envelope every non-2xx `/v1` answer carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_api_key`, `key_revoked`, `key_expired`, `ip_not_allowed`,
    /// `insufficient_scope`, `plan_required`, `rate_limited`, `validation_failed`, `not_found`.
    pub code: String,
    pub message: String,
    /// Also in the `X-Request-Id` header.
    pub request_id: String,
    /// For `insufficient_scope`: the scope the request needed.
    pub required_scope: Option<String>,
    /// For `validation_failed`: one entry per bad field.
    pub fields: Option<Vec<super::FieldProblem>>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lk_live_… / lk_test_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
