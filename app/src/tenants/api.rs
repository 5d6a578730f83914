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
    /// Keys counting against the plan now: what a downgrade would suspend.
    pub active_keys: i64,
}

#[server(endpoint = "billing")]
pub async fn get_billing(tenant: i64) -> Result<BillingInfo, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewBilling, tenant).await?;
    let state = state()?;
    // The limits the verifier enforces, which the operator may have overridden.
    let limits = state.settings.limits;
    let active_keys = store::keys::count_active(&state.db, session.tenant_id).await?;
    Ok(BillingInfo {
        tenant_name: session.tenant_name,
        plan: session.plan,
        can_change: Action::ChangePlan.allowed_for(session.role),
        plans: Plan::ALL
            .into_iter()
            .map(|plan| PlanOffer {
                plan,
                limits: limits.of(plan),
            })
            .collect(),
        active_keys,
    })
}

/// Owner only. No payment: the plan changes at once and the change is audited.
#[server(endpoint = "change_plan")]
pub async fn change_plan(tenant: i64, plan: Plan) -> Result<Plan, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ChangePlan, tenant).await?;
    let state = state()?;
    store::tenants::change_plan(&state.db, session.tenant_id, plan, &session.actor()).await?;
    // A downgrade suspends the tenant's keys from the very next request (and an upgrade
    // restores them).
    state.verifier.forget_tenant(session.tenant_id);
    tracing::info!(tenant_id = session.tenant_id, plan = %plan, "plan changed");
    Ok(plan)
}
