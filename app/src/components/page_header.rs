//! The header every page starts with, and the placeholder for pages still to come.

use leptos::prelude::*;

/// A titled page header with a one-line description and optional actions.
#[component]
pub fn PageHeader(
    title: &'static str,
    description: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{description}</p>
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </div>
    }
}

/// A page whose feature arrives with a later issue.
#[component]
pub fn ComingSoon(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <PageHeader title=title description=what/>
        <div class="card" data-testid="coming-soon">
            <p>"Coming soon."</p>
        </div>
    }
}
