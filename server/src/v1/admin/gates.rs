//! `/v1/admin/tenants/{external_id}/requirements`, `…/resources…` and `…/audit-events`: the
//! minting gates, the resources keys can be limited to, and the tenant's audit log.

use super::tenants::writable;
use super::{tenant, Operator, RESOURCES_WRITE, TENANTS_READ, TENANTS_WRITE};
use crate::v1::audit::{AuditEventList, AuditQuery};
use crate::v1::error::{ApiError, ErrorBody};
use crate::v1::extract::{ApiJson, ApiPath, ApiQuery};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use latchkey_domain::operator::REQUIREMENTS_MAX;
use serde::{Deserialize, Serialize};
use store::operator::requirements::{Met, Requirement as Stored};
use store::AppState;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The SaaS's id for it: 1 to 128 of letters, digits and _ - . : @ |
    #[schema(pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")]
    pub id: String,
    /// What people see, e.g. "KYB review complete".
    #[schema(schema_with = super::tenants::label)]
    pub label: String,
    pub met: bool,
}

/// The `PUT` body: at most `REQUIREMENTS_MAX`, ids unique (which JSON Schema cannot say).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct RequirementList(pub Vec<Requirement>);

impl PartialSchema for RequirementList {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(RefOr::<Schema>::Ref(Ref::from_schema_name("Requirement")))
            .max_items(Some(REQUIREMENTS_MAX))
            .build()
            .into()
    }
}

impl ToSchema for RequirementList {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("Requirement".to_owned(), Requirement::schema()));
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Requirements {
    pub data: Vec<Requirement>,
    /// The labels of those not met: while any is, no key is created or rolled.
    pub pending: Vec<String>,
}

fn answer(list: Vec<Stored>) -> Requirements {
    let pending = list
        .iter()
        .filter(|r| !r.met.0)
        .map(|r| r.label.clone())
        .collect();
    Requirements {
        data: list
            .into_iter()
            .map(|r| Requirement {
                id: r.id,
                label: r.label,
                met: r.met.0,
            })
            .collect(),
        pending,
    }
}

/// Replaces the tenant's requirements (an empty list lifts every gate).
#[utoipa::path(
    put,
    path = "/v1/admin/tenants/{external_id}/requirements",
    tag = "admin",
    params(("external_id" = String, Path, description = "The tenant's external id")),
    request_body(content = RequirementList, description = "At most 20, ids unique"),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The list as stored", body = Requirements),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:write)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "tenant_deleted or idempotency_in_progress", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed per item (or the Idempotency-Key), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn put_requirements(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath(external_id): ApiPath<String>,
    ApiJson(RequirementList(body)): ApiJson<RequirementList>,
) -> Result<Json<Requirements>, ApiError> {
    op.require(TENANTS_WRITE)?;
    let t = writable(&state, &external_id).await?;
    let list: Vec<Stored> = body
        .into_iter()
        .map(|r| Stored {
            id: r.id,
            label: r.label,
            met: Met(r.met),
        })
        .collect();
    let stored =
        store::operator::requirements::set((&state).into(), t.id, &list, &op.call(&headers))
            .await?;
    Ok(Json(answer(stored)))
}

/// The tenant's requirements.
#[utoipa::path(
    get,
    path = "/v1/admin/tenants/{external_id}/requirements",
    tag = "admin",
    params(("external_id" = String, Path, description = "The tenant's external id")),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The list", body = Requirements),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:read)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn get_requirements(
    State(state): State<AppState>,
    op: Operator,
    ApiPath(external_id): ApiPath<String>,
) -> Result<Json<Requirements>, ApiError> {
    op.require(TENANTS_READ)?;
    let t = tenant(&state, &external_id).await?;
    let list = store::operator::requirements::list(&state.db.pool, t.id).await?;
    Ok(Json(answer(list)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequest {
    /// What people see, e.g. "Operating ••1234".
    #[schema(schema_with = super::tenants::label)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceList {
    pub data: Vec<Resource>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceRemoved {
    /// Keys limited to it, which now refuse it (they stay limited).
    pub keys_affected: usize,
}

/// Adds or renames a resource of an operator-declared type (`--resource-type`).
#[utoipa::path(
    put,
    path = "/v1/admin/tenants/{external_id}/resources/{type}/{id}",
    tag = "admin",
    params(
        ("external_id" = String, Path, description = "The tenant's external id"),
        ("type" = String, Path, description = "A declared resource type"),
        ("id" = String, Path, description = "The SaaS's id for it", pattern = "^[A-Za-z0-9_.:@|-]{1,128}$"),
    ),
    request_body = ResourceRequest,
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Updated", body = Resource),
        (status = 201, description = "Added", body = Resource),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (resources:write)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "conflict (the tenant's 10000 resources), tenant_deleted, idempotency_in_progress", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed: an undeclared type, an id or name outside its pattern, the Idempotency-Key; idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn put_resource(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath((external_id, kind, id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<ResourceRequest>,
) -> Result<(StatusCode, Json<Resource>), ApiError> {
    op.require(RESOURCES_WRITE)?;
    let t = writable(&state, &external_id).await?;
    let call = op.call(&headers);
    let (r, added) =
        store::operator::resources::put((&state).into(), t.id, &kind, &id, &body.name, &call)
            .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Resource {
            kind: r.kind,
            id: r.id,
            name: r.name,
        }),
    ))
}

/// Removes a resource: keys limited to it refuse it from their next call.
#[utoipa::path(
    delete,
    path = "/v1/admin/tenants/{external_id}/resources/{type}/{id}",
    tag = "admin",
    params(
        ("external_id" = String, Path, description = "The tenant's external id"),
        ("type" = String, Path, description = "A declared resource type"),
        ("id" = String, Path, description = "The SaaS's id for it"),
    ),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Removed", body = ResourceRemoved),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (resources:write)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "tenant_deleted or idempotency_in_progress", body = ErrorBody),
        (status = 422, description = "validation_failed (the Idempotency-Key), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn delete_resource(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath((external_id, kind, id)): ApiPath<(String, String, String)>,
) -> Result<Json<ResourceRemoved>, ApiError> {
    op.require(RESOURCES_WRITE)?;
    let t = writable(&state, &external_id).await?;
    let n =
        store::operator::resources::remove((&state).into(), t.id, &kind, &id, &op.call(&headers))
            .await?;
    Ok(Json(ResourceRemoved { keys_affected: n }))
}

/// The tenant's resources.
#[utoipa::path(
    get,
    path = "/v1/admin/tenants/{external_id}/resources",
    tag = "admin",
    params(("external_id" = String, Path, description = "The tenant's external id")),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Every resource (at most 10000)", body = ResourceList),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:read)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn list_resources(
    State(state): State<AppState>,
    op: Operator,
    ApiPath(external_id): ApiPath<String>,
) -> Result<Json<ResourceList>, ApiError> {
    op.require(TENANTS_READ)?;
    let t = tenant(&state, &external_id).await?;
    let list = store::operator::resources::list((&state).into(), t.id, None).await?;
    Ok(Json(ResourceList {
        data: list
            .into_iter()
            .map(|r| Resource {
                kind: r.kind,
                id: r.id,
                name: r.name,
            })
            .collect(),
    }))
}

/// The tenant's audit log, newest first (readable after deletion too).
#[utoipa::path(
    get,
    path = "/v1/admin/tenants/{external_id}/audit-events",
    tag = "admin",
    params(("external_id" = String, Path, description = "The tenant's external id"), AuditQuery),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "One page of events", body = AuditEventList),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:read)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "validation_failed: `limit`, `cursor` or `action`", body = ErrorBody),
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    op: Operator,
    ApiPath(external_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditEventList>, ApiError> {
    op.require(TENANTS_READ)?;
    let t = tenant(&state, &external_id).await?;
    Ok(Json(crate::v1::audit::page(&state, t.id, q).await?))
}
