//! Signing in and out, the session, and switching tenants.

pub mod api;
mod sign_in_form;

use crate::auth::api::{sign_in_options, SignInChoices};
use crate::components::loaded::Loaded;
use crate::portal::PortalEnded;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sign_in_form::SignInForm;

/// `/signin`, drawn on the server; the password form is a plain form and ships no code.
#[component]
pub fn SignInPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| sign_in_options());
    // Where single sign-on sent the browser back with `?sso=…` (read on the server: every
    // arrival here is a full page load).
    let sso = use_query_map().read_untracked().get("sso");
    let body = if sso.as_deref() == Some("no-membership") {
        view! { <NoMembership/> }.into_any()
    } else {
        let failed = sso.as_deref() == Some("failed");
        view! {
            <h1>"Sign in to Latchkey"</h1>
            {failed
                .then(|| {
                    view! {
                        <p class="notice notice-error" role="alert" data-testid="sso-failed">
                            "Single sign-on did not complete. Try again."
                        </p>
                    }
                })}
            <Suspense>
                <Loaded resource=options let:opts>
                    <SignInWays opts=opts/>
                </Loaded>
            </Suspense>
        }
        .into_any()
    };
    view! {
        // A portal session that ended goes back to the SaaS for a fresh link instead.
        <PortalEnded/>
        <main class="signin">
            <div class="card signin-card">{body}</div>
        </main>
    }
}

/// Signed in at the provider, but a member of no organisation here: nothing was created.
#[component]
fn NoMembership() -> impl IntoView {
    view! {
        <h1>"No organisation yet"</h1>
        <p data-testid="sso-no-membership">
            "You signed in, but your account is not a member of any organisation in Latchkey. "
            "Ask an owner of your organisation for an invitation, then sign in again."
        </p>
        <a class="btn" href="/signin">
            "Back to sign in"
        </a>
    }
}

/// The single sign-on button and the password form, as the operator turned them on.
#[component]
fn SignInWays(opts: SignInChoices) -> impl IntoView {
    let sso = opts.sso_label.map(|label| {
        // A plain link: starting the flow is a GET navigation to the provider.
        view! {
            <a class="btn btn-primary" href="/auth/oidc/start" rel="external" data-testid="sso-button">
                {label}
            </a>
        }
    });
    view! {
        {sso}
        {opts.password.then(|| view! { <SignInForm/> })}
    }
}
