//! `/v1/admin/tenants…`: the upsert keyed by the SaaS's id, reads, and deletion.

use super::{live_tenant, tenant, Operator, TENANTS_READ, TENANTS_WRITE};
use crate::v1::error::{ApiError, ErrorBody};
use crate::v1::extract::{ApiJson, ApiPath, ApiQuery};
use crate::v1::paging::{cursor_schema, limit_schema, page_limit, parse_cursor};
use crate::v1::schemas::name_pattern;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use latchkey_domain::operator::{TenantStatus, LABEL_MAX};
use latchkey_domain::Plan;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use store::operator::tenants::{OperatorTenant, TenantInput};
use store::AppState;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

/// The operator's limits for one tenant; `null`: the plan's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    /// Most active keys (0 to 100000).
    #[schema(minimum = 0, maximum = 100000)]
    #[serde(default, deserialize_with = "whole")]
    pub max_keys: Option<u32>,
    /// Requests a minute per key (1 to 1000000).
    #[schema(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "whole")]
    pub rate_per_minute: Option<u32>,
}

/// `PUT` body: the tenant's whole state; a field left out is its default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantRequest {
    #[schema(schema_with = label)]
    pub name: String,
    pub plan: Plan,
    #[serde(default, deserialize_with = "object")]
    pub limits: Option<TenantLimits>,
    /// A JSON object of at most 1 KiB (1024 bytes as compact JSON), returned to host services
    /// as `tenant.metadata`; a larger one is 422.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// `active` (default) or `suspended`.
    pub status: Option<SettableStatus>,
}

/// What a `PUT` may set (`deleted` is reached by `DELETE` only).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SettableStatus {
    Active,
    Suspended,
}

/// A tenant as the operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tenant {
    /// The opaque public id (`org_…`).
    pub id: String,
    pub external_id: Option<String>,
    pub slug: String,
    pub name: String,
    pub plan: Plan,
    pub status: TenantStatus,
    pub limits: TenantLimits,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

impl From<OperatorTenant> for Tenant {
    fn from(t: OperatorTenant) -> Self {
        Self {
            id: t.public_id,
            external_id: t.external_id,
            slug: t.slug,
            name: t.name,
            plan: t.plan,
            status: t.status,
            limits: TenantLimits {
                max_keys: t.max_keys,
                rate_per_minute: t.rate_per_minute,
            },
            metadata: t.metadata,
            created_at: t.created_at,
            deleted_at: t.deleted_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    pub data: Vec<Tenant>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    pub plan: Option<Plan>,
    pub status: Option<TenantStatus>,
    #[param(schema_with = limit_schema)]
    pub limit: Option<i64>,
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
}

/// A label or name people read, as `operator::check_label` takes it: 1 to `LABEL_MAX`
/// characters, not only spaces, no control or text-direction characters.
pub(super) fn label() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(LABEL_MAX))
        .pattern(Some(name_pattern()))
        .description(Some(format!(
            "1 to {LABEL_MAX} characters, not only spaces; no control or text-direction \
             characters."
        )))
        .build()
}

/// A nested object from a JSON object only (serde's derive also reads one from an array).
fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        None => Ok(None),
        Some(map) => T::deserialize(serde_json::Value::Object(map))
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// A limit as a whole number: JSON Schema calls `5.0` an integer, so it is one here too.
/// A whole number, also when written `181.0` (JSON Schema's `integer` admits it).
pub(super) fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f))
                .map(|f| f as u64)
        })
        .and_then(|v| u32::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "{n}: expected a whole number from 0 to {}",
                u32::MAX
            ))
        })
}

const EXTERNAL_ID: &str =
    "The SaaS's own id for the tenant: 1 to 128 of letters, digits and _ - . : @ |";

/// Creates or updates the tenant with this external id.
#[utoipa::path(
    put,
    path = "/v1/admin/tenants/{external_id}",
    tag = "admin",
    params(("external_id" = String, Path, description = EXTERNAL_ID, pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")),
    request_body = TenantRequest,
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Updated", body = Tenant),
        (status = 201, description = "Created", body = Tenant),
        (status = 400, description = "invalid_request: not JSON, or an unknown field", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:write)", body = ErrorBody),
        (status = 409, description = "tenant_deleted, idempotency_in_progress, or conflict", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed per field (metadata over 1 KiB, or an Idempotency-Key outside 1 to 255 visible ASCII characters), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath(external_id): ApiPath<String>,
    ApiJson(body): ApiJson<TenantRequest>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    op.require(TENANTS_WRITE)?;
    let limits = body.limits.unwrap_or_default();
    let input = TenantInput {
        name: body.name,
        plan: body.plan,
        max_keys: limits.max_keys,
        rate_per_minute: limits.rate_per_minute,
        metadata: body.metadata.unwrap_or_default(),
        status: match body.status {
            Some(SettableStatus::Suspended) => TenantStatus::Suspended,
            _ => TenantStatus::Active,
        },
    };
    let call = op.call(&headers);
    let (tenant, created) =
        store::operator::tenants::upsert((&state).into(), &external_id, &input, &call)
            .await
            .map_err(|e| match e {
                latchkey_domain::error::AppError::Conflict(m)
                    if m == store::operator::tenants::TENANT_DELETED =>
                {
                    ApiError::new(StatusCode::CONFLICT, "tenant_deleted", m)
                }
                other => other.into(),
            })?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(tenant.into())))
}

/// One tenant (deleted ones too).
#[utoipa::path(
    get,
    path = "/v1/admin/tenants/{external_id}",
    tag = "admin",
    params(("external_id" = String, Path, description = EXTERNAL_ID)),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The tenant", body = Tenant),
        (status = 400, description = "invalid_request: the id is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:read)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    op: Operator,
    ApiPath(external_id): ApiPath<String>,
) -> Result<Json<Tenant>, ApiError> {
    op.require(TENANTS_READ)?;
    Ok(Json(tenant(&state, &external_id).await?.into()))
}

/// Tenants, oldest first, optionally of one plan and status.
#[utoipa::path(
    get,
    path = "/v1/admin/tenants",
    tag = "admin",
    params(TenantQuery),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "One page of tenants", body = TenantList),
        (status = 400, description = "invalid_request: an unknown plan or status", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:read)", body = ErrorBody),
        (status = 422, description = "validation_failed: `limit` or `cursor`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    op: Operator,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<Json<TenantList>, ApiError> {
    op.require(TENANTS_READ)?;
    let limit = page_limit(q.limit)?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let (items, next) =
        store::operator::tenants::list(&state.db, q.plan, q.status, after, limit).await?;
    Ok(Json(TenantList {
        data: items.into_iter().map(Tenant::from).collect(),
        next_cursor: next.map(|n| n.to_string()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub tenant: Tenant,
    /// Keys this call revoked.
    pub keys_revoked: usize,
}

/// Deletes a tenant: revokes every key (webhooks fire), ends every session and membership.
/// The audit log stays readable here. Deleting a deleted tenant changes nothing.
#[utoipa::path(
    delete,
    path = "/v1/admin/tenants/{external_id}",
    tag = "admin",
    params(("external_id" = String, Path, description = EXTERNAL_ID)),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 400, description = "invalid_request: the id is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (tenants:write)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "idempotency_in_progress", body = ErrorBody),
        (status = 422, description = "validation_failed (the Idempotency-Key), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath(external_id): ApiPath<String>,
) -> Result<Json<Deleted>, ApiError> {
    op.require(TENANTS_WRITE)?;
    let t = tenant(&state, &external_id).await?;
    let revoked = store::operator::tenants::delete((&state).into(), &t, &op.call(&headers)).await?;
    let t = tenant(&state, &external_id).await?;
    Ok(Json(Deleted {
        tenant: t.into(),
        keys_revoked: revoked,
    }))
}

/// Used by sibling modules: a tenant a write may touch.
pub async fn writable(state: &AppState, external_id: &str) -> Result<OperatorTenant, ApiError> {
    live_tenant(state, external_id).await
}
