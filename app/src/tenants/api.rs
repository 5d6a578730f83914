//! Settings ▸ Billing: the plan, its limits, and (for owners) changing it.

use crate::api_keys::gates::RequirementView;
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
    /// Where the SaaS manages billing (`--billing-url`): set, the page shows the plan and a
    /// link there instead of the plan switcher, because the SaaS's billing decides the plan.
    pub billing_url: Option<String>,
    /// The tenant's limits: its plan's, with the operator's overrides for this tenant.
    pub limits: PlanLimits,
    /// Whether the operator set either limit for this tenant.
    pub custom_limits: bool,
    /// Requirements still unmet (no key can be created until they are).
    pub pending: Vec<RequirementView>,
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
    let tenant = store::operator::tenants::by_id(&state.db, session.tenant_id).await?;
    let mut own = limits.of(session.plan);
    if let Some(n) = tenant.max_keys {
        own.max_active_keys = n;
    }
    if let Some(n) = tenant.rate_per_minute {
        own.requests_per_minute = n;
    }
    let pending = store::operator::requirements::list(&state.db.pool, session.tenant_id)
        .await?
        .into_iter()
        .map(RequirementView::from)
        .filter(|r| !r.met)
        .collect();
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
        billing_url: state.settings.billing_url.clone(),
        limits: own,
        custom_limits: tenant.max_keys.is_some() || tenant.rate_per_minute.is_some(),
        pending,
    })
}

/// Owner only. No payment: the plan changes at once and the change is audited.
#[server(endpoint = "change_plan")]
pub async fn change_plan(tenant: i64, plan: Plan) -> Result<Plan, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ChangePlan, tenant).await?;
    let state = state()?;
    // With a billing URL the SaaS's billing decides the plan (the page offers no switcher).
    if state.settings.billing_url.is_some() {
        return Err(AppError::Conflict(
            "The plan is managed in your billing settings, not here.".to_owned(),
        ));
    }
    store::tenants::switch_plan((&state).into(), session.tenant_id, plan, &session.actor()).await?;
    crate::guard::set_notice(&format!("Switched to the {} plan.", plan.label()));
    Ok(plan)
}
