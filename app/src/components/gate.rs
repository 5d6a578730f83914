//! What API Keys shows instead of the list when the server refuses it: the same answers a direct
//! call gets, said as a card.

use super::page_header::PageHeader;
use crate::error::AppError;
use leptos::prelude::*;

/// A Starter tenant's API Keys page.
#[component]
pub fn UpgradeCard() -> impl IntoView {
    view! {
        <PageHeader title="API Keys" description="Let your services call the API with scoped keys."/>
        <div class="card" data-testid="upgrade-card">
            <h2>"API keys are part of Professional and Enterprise"</h2>
            <p>
                "Upgrade to create live and test keys with scopes, IP allowlists and expiry. "
                "Keys you already have are kept, suspended until you upgrade."
            </p>
            <a class="btn btn-primary" href="/billing" data-testid="upgrade-link">
                "See plans in Settings ▸ Billing"
            </a>
        </div>
    }
}

/// A viewer's API Keys page.
#[component]
pub fn NoAccess() -> impl IntoView {
    view! {
        <PageHeader title="API Keys" description="Let your services call the API with scoped keys."/>
        <NoAccessCard
            title="You don't have access to API keys"
            message="Viewers can't see this organisation's keys. Ask an owner or admin for a different role."
        />
    }
}

/// What a page says to a role it refuses (the same refusal a direct call gets).
#[component]
pub fn NoAccessCard(title: &'static str, message: &'static str) -> impl IntoView {
    view! {
        <div class="card" data-testid="no-access" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
        </div>
    }
}

/// A [`Loaded`](super::Loaded) `on_error` hook: a plan refusal becomes the upgrade card, a role
/// refusal the no-access card; any other error is left to the usual notice.
pub fn gate(error: AppError) -> Option<AnyView> {
    match error {
        AppError::PlanRequired => Some(view! { <UpgradeCard/> }.into_any()),
        AppError::Forbidden => Some(view! { <NoAccess/> }.into_any()),
        _ => None,
    }
}
