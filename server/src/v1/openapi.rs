//! The OpenAPI 3 document, generated from the handlers' annotations (`utoipa`). A test checks
//! it against the routes the router really answers.

use super::error::{ErrorBody, ErrorDetail, FieldProblem};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    components(schemas(ErrorBody, ErrorDetail, FieldProblem)),
    modifiers(&Security),
    tags(
        (name = "keys", description = "API keys of the calling key's tenant"),
        (name = "audit", description = "The tenant's append-only audit log"),
        (name = "verify", description = "Verification for the host product's services"),
    )
)]
pub struct ApiDoc;

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
