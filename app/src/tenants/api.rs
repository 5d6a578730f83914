//! Settings ▸ Billing: the plan, its limits, and (for owners) changing it.

use crate::error::AppError;
use latchkey_domain::{Plan, PlanLimits};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOffer {
    pub plan: Plan,
    pub limits: PlanLimits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingInfo {
    pub tenant_name: String,
    pub plan: Plan,
    pub can_change: bool,
    pub plans: Vec<PlanOffer>,
}

#[server(endpoint = "billing")]
pub async fn get_billing() -> Result<BillingInfo, AppError> {
    use crate::auth::server::require;
    use latchkey_domain::Action;

    let ctx = require(Action::ViewBilling).await?;
    // The per-key rate limits the verifier enforces, which the operator may have overridden.
    let rates = crate::auth::server::state()?.verifier.rate_limits();
    Ok(BillingInfo {
        tenant_name: ctx.tenant_name,
        plan: ctx.plan,
        can_change: Action::ChangePlan.allowed_for(ctx.role),
        plans: Plan::ALL
            .into_iter()
            .map(|plan| PlanOffer {
                plan,
                limits: PlanLimits {
                    requests_per_minute: rates.per_minute(plan),
                    ..plan.limits()
                },
            })
            .collect(),
    })
}

/// Owner only. No payment: the plan changes at once and the change is audited.
#[server(endpoint = "change_plan")]
pub async fn change_plan(plan: Plan) -> Result<Plan, AppError> {
    use crate::audit::server::Event;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ChangePlan).await?;
    let state = state()?;
    crate::tenants::server::change_plan(
        &state.db,
        ctx.tenant_id,
        plan,
        Event {
            tenant_id: Some(ctx.tenant_id),
            actor_user_id: Some(ctx.user_id),
            actor: ctx.email.clone(),
            action: "tenant.plan_changed",
            target_type: None,
            target_id: None,
            client_ip: Some(ctx.client_ip),
            details: serde_json::Value::Null,
        },
    )
    .await?;
    // A downgrade suspends the tenant's keys from the very next request (and an upgrade
    // restores them).
    state.verifier.forget_tenant(ctx.tenant_id);
    tracing::info!(tenant_id = ctx.tenant_id, plan = %plan, "plan changed");
    Ok(plan)
}
