//! `/v1/admin/tenants/{external_id}/members…`: members keyed by the SaaS's user id.

use super::tenants::writable;
use super::{tenant, Operator, MEMBERS_READ, MEMBERS_WRITE};
use crate::v1::error::{ApiError, ErrorBody};
use crate::v1::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use latchkey_domain::error::AppError;
use latchkey_domain::Role;
use serde::{Deserialize, Serialize};
use store::operator::members::{MemberInput, OperatorMember};
use store::AppState;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    #[schema(schema_with = super::tenants::label)]
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub external_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    /// When they joined, Unix milliseconds.
    pub created_at: i64,
}

impl From<OperatorMember> for Member {
    fn from(m: OperatorMember) -> Self {
        Self {
            external_id: m.external_id,
            email: m.email,
            name: m.name,
            role: m.role,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub data: Vec<Member>,
}

/// Adds the member (creating the person on first sight) or changes their role; an email or
/// name change follows the external id.
#[utoipa::path(
    put,
    path = "/v1/admin/tenants/{external_id}/members/{external_user_id}",
    tag = "admin",
    params(
        ("external_id" = String, Path, description = "The tenant's external id"),
        ("external_user_id" = String, Path, description = "The SaaS's user id: 1 to 128 of letters, digits and _ - . : @ |", pattern = "^[A-Za-z0-9_.:@|-]{1,128}$"),
    ),
    request_body = MemberRequest,
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Updated", body = Member),
        (status = 201, description = "Added", body = Member),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (members:write)", body = ErrorBody),
        (status = 404, description = "not_found: no such tenant", body = ErrorBody),
        (status = 409, description = "email_taken: another person (another external user id) has this email; conflict: the last owner cannot be demoted; tenant_deleted; idempotency_in_progress", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed per field (or the Idempotency-Key), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath((external_id, user)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MemberRequest>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    op.require(MEMBERS_WRITE)?;
    let t = writable(&state, &external_id).await?;
    // A malformed email is 422 here, so an `email` problem from storage is a collision.
    store::auth::validate_email(&body.email)?;
    let input = MemberInput {
        email: body.email,
        name: body.name,
        role: body.role,
    };
    let call = op.call(&headers);
    let (member, added) =
        store::operator::members::upsert((&state).into(), t.id, &user, &input, &call)
            .await
            .map_err(|e| match e {
                AppError::Validation(f) if f.iter().any(|p| p.field == "email") => ApiError::new(
                    StatusCode::CONFLICT,
                    "email_taken",
                    "Another person (with another external user id) has this email.",
                ),
                other => other.into(),
            })?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(member.into())))
}

/// Removes a member; their sessions lose this tenant on their next request.
#[utoipa::path(
    delete,
    path = "/v1/admin/tenants/{external_id}/members/{external_user_id}",
    tag = "admin",
    params(
        ("external_id" = String, Path, description = "The tenant's external id"),
        ("external_user_id" = String, Path, description = "The SaaS's user id"),
    ),
    security(("operator_token" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (members:write)", body = ErrorBody),
        (status = 404, description = "not_found: no such tenant or member", body = ErrorBody),
        (status = 409, description = "conflict: the last owner cannot be removed; tenant_deleted; idempotency_in_progress", body = ErrorBody),
        (status = 422, description = "validation_failed (the Idempotency-Key), or idempotency_key_reused", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiPath((external_id, user)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    op.require(MEMBERS_WRITE)?;
    let t = writable(&state, &external_id).await?;
    store::operator::members::remove((&state).into(), t.id, &user, &op.call(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's members, owners first.
#[utoipa::path(
    get,
    path = "/v1/admin/tenants/{external_id}/members",
    tag = "admin",
    params(("external_id" = String, Path, description = "The tenant's external id")),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Every member (at most 1000)", body = MemberList),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (members:read)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    op: Operator,
    ApiPath(external_id): ApiPath<String>,
) -> Result<Json<MemberList>, ApiError> {
    op.require(MEMBERS_READ)?;
    let t = tenant(&state, &external_id).await?;
    let members = store::operator::members::list((&state).into(), t.id).await?;
    Ok(Json(MemberList {
        data: members.into_iter().map(Member::from).collect(),
    }))
}
