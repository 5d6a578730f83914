//! The OpenAPI 3 document, generated from the handlers' annotations (`utoipa`). The answers
//! every key-authenticated route shares (401, 429, 503 from `key_auth`) and the headers of
//! every answer are added here, in one place, so no operation can leave them out; the scope
//! catalogue and the resource types are the server's own. A test checks the document against
//! the routes the router answers, and `end2end/schemathesis.sh` against the answers themselves.

use super::error::{ErrorBody, ErrorDetail, FieldProblem};
use axum::extract::State;
use axum::Json;
use latchkey_domain::operator::ResourceType;
use store::AppState;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, RefOr};
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
        super::roll::roll,
        super::audit::list,
        super::verify::verify,
        super::changes::stream,
        super::usage::post,
        super::authz::authz,
        super::leaks::revoke_self,
        super::leaks::report,
        super::admin::tenants::put,
        super::admin::tenants::get,
        super::admin::tenants::list,
        super::admin::tenants::delete,
        super::admin::members::put,
        super::admin::members::delete,
        super::admin::members::list,
        super::admin::gates::put_requirements,
        super::admin::gates::get_requirements,
        super::admin::gates::put_resource,
        super::admin::gates::delete_resource,
        super::admin::gates::list_resources,
        super::admin::gates::audit,
        super::admin::portal::mint,
        super::admin::portal::expire,
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldProblem)),
    modifiers(&Security, &SharedAnswers),
    tags(
        (name = "keys", description = "API keys of the calling key's tenant"),
        (name = "audit", description = "The tenant's append-only audit log"),
        (name = "verify", description = "Verification for the host product's services"),
        (name = "leaks", description = "Reports of exposed keys (no authentication: a key proves itself)"),
        (name = "admin", description = "The operator API: the SaaS backend keeps tenants, members, requirements and resources in sync, and signs its users in with portal links (operator tokens, `lko_…`). Every non-GET call except the portal ones takes an `Idempotency-Key`."),
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
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lko_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn error_body() -> Content {
    Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
        "ErrorBody",
    ))))
}

fn header(ty: Type, description: &str) -> Header {
    let schema = match ty {
        Type::Integer => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0)),
        other => ObjectBuilder::new().schema_type(other),
    };
    HeaderBuilder::new()
        .schema(schema)
        .description(Some(description))
        .build()
}

/// A refusal answered with the error envelope.
fn error_answer(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", error_body())
        .build()
}

/// What `key_auth` answers on every key-authenticated route before the handler runs.
fn key_auth_answers() -> [(&'static str, Response); 3] {
    let error = error_answer;
    [
        (
            "401",
            error(
                "invalid_api_key (missing, malformed, bad checksum or unknown: all alike), \
                 key_revoked, key_disabled or key_expired",
            ),
        ),
        (
            "429",
            error(
                "rate_limited: the key's rate limit, or too many unknown keys from this \
                 address; see Retry-After",
            ),
        ),
        (
            "503",
            error("unavailable: key verification cannot reach storage; retry"),
        ),
    ]
}

/// What `operator_auth` answers on every `/v1/admin` route before the handler runs.
fn operator_auth_answers() -> [(&'static str, Response); 3] {
    let error = error_answer;
    [
        (
            "401",
            error("invalid_operator_token: missing, malformed, unknown or revoked (all alike)"),
        ),
        (
            "429",
            error(
                "rate_limited: too many wrong operator tokens from this address; see Retry-After",
            ),
        ),
        (
            "503",
            error("unavailable: storage cannot be reached; retry"),
        ),
    ]
}

/// The rate-limit headers `key_auth` adds to every answer once it has identified the key.
fn rate_headers() -> [(&'static str, Header); 5] {
    [
        (
            "RateLimit-Policy",
            header(Type::String, "`\"per-key\";q=<limit>;w=<window secs>`"),
        ),
        (
            "RateLimit",
            header(
                Type::String,
                "`\"per-key\";r=<remaining>;t=<secs until full>`",
            ),
        ),
        (
            "X-RateLimit-Limit",
            header(Type::Integer, "Requests allowed per window"),
        ),
        (
            "X-RateLimit-Remaining",
            header(Type::Integer, "Requests left in this window"),
        ),
        (
            "X-RateLimit-Reset",
            header(Type::Integer, "Seconds until the budget is full again"),
        ),
    ]
}

/// The answers and headers operations share: the key-authenticated ones get `key_auth`'s
/// answers and rate-limit headers; every answer names its request id, every 401 its scheme and
/// every 429 when to retry.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let api_key = SecurityRequirement::new("api_key", Vec::<String>::new());
        let operator = SecurityRequirement::new("operator_token", Vec::<String>::new());
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ];
            for op in operations.into_iter().flatten() {
                let keyed = op.security.as_ref().is_some_and(|s| s.contains(&api_key));
                if op.security.as_ref().is_some_and(|s| s.contains(&operator)) {
                    for (status, response) in operator_auth_answers() {
                        op.responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert(RefOr::T(response));
                    }
                }
                share(op, keyed);
            }
        }
    }
}

fn share(op: &mut Operation, keyed: bool) {
    let responses = &mut op.responses.responses;
    if keyed {
        for (status, response) in key_auth_answers() {
            responses
                .entry(status.to_owned())
                .or_insert(RefOr::T(response));
        }
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        // The body limit's 413 is an envelope too, answered before `key_auth` (no rate headers).
        let too_large = status == "413";
        if too_large {
            response
                .content
                .entry("application/json".to_owned())
                .or_insert_with(error_body);
        }
        let headers = &mut response.headers;
        headers.insert(
            "X-Request-Id".to_owned(),
            header(Type::String, "This request's id, as in error bodies"),
        );
        if keyed && !too_large {
            headers.extend(rate_headers().map(|(name, h)| (name.to_owned(), h)));
        }
        match status.as_str() {
            "401" => {
                headers.insert(
                    "WWW-Authenticate".to_owned(),
                    header(Type::String, "`Bearer realm=\"latchkey\"`"),
                );
            }
            "429" => {
                headers.insert(
                    "Retry-After".to_owned(),
                    header(Type::Integer, "Seconds to wait before retrying"),
                );
            }
            _ => {}
        }
    }
}

/// The document for a server with this scope catalogue and these resource types: `POST
/// /v1/keys` takes exactly these scopes and resources of exactly these types, as do the admin
/// resource routes (any other is 422).
pub fn for_catalogue(
    catalogue: &[String],
    resource_types: &[ResourceType],
) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let types: Vec<serde_json::Value> = resource_types
        .iter()
        .map(|t| t.name.as_str().into())
        .collect();
    let create = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("CreateKeyRequest"))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(o)) => Some(o),
            _ => None,
        });
    if let Some(create) = create {
        if let Some(RefOr::T(Schema::Object(scope))) =
            create.properties.get_mut("scopes").and_then(items)
        {
            scope.enum_values = Some(catalogue.iter().map(|s| s.as_str().into()).collect());
        }
        if let Some(RefOr::T(Schema::Object(resource))) =
            create.properties.get_mut("resources").and_then(items)
        {
            if let Some(RefOr::T(Schema::Object(kind))) = resource.properties.get_mut("type") {
                kind.enum_values = Some(types.clone());
            }
        }
    }
    if let Some(item) = doc.paths.paths.get_mut(RESOURCE_PATH) {
        for op in [&mut item.put, &mut item.delete].into_iter().flatten() {
            let kind = op
                .parameters
                .iter_mut()
                .flatten()
                .find(|p| p.name == "type")
                .and_then(|p| p.schema.as_mut());
            if let Some(RefOr::T(Schema::Object(kind))) = kind {
                kind.enum_values = Some(types.clone());
            }
        }
    }
    doc
}

/// The item schema of an array schema.
fn items(schema: &mut RefOr<Schema>) -> Option<&mut RefOr<Schema>> {
    match schema {
        RefOr::T(Schema::Array(a)) => match &mut a.items {
            ArrayItems::RefOrSchema(items) => Some(items.as_mut()),
            ArrayItems::False => None,
        },
        _ => None,
    }
}

/// The route whose `{type}` is one of the operator's `--resource-type`s.
const RESOURCE_PATH: &str = "/v1/admin/tenants/{external_id}/resources/{type}/{id}";

/// `GET /v1/openapi.json`.
pub async fn document(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let settings = &state.settings;
    Json(for_catalogue(
        &settings.scope_catalogue,
        &settings.resource_types,
    ))
}
