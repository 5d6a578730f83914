//! Signing in and out, the session, and switching tenants.

pub mod api;

use crate::auth::api::{sign_in_options, SignIn, SignInChoices};
use crate::components::loaded::Loaded;
use crate::components::reload_on_success;
use crate::portal::PortalEnded;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| sign_in_options());
    // Where single sign-on sent the browser back with `?sso=…`.
    let query = use_query_map();
    let sso = move || query.read().get("sso");
    view! {
        // A portal session that ended goes back to the SaaS for a fresh link instead.
        <PortalEnded/>
        <main class="signin">
            <div class="card signin-card">
                {move || {
                    if sso().as_deref() == Some("no-membership") {
                        view! { <NoMembership/> }.into_any()
                    } else {
                        let failed = sso().as_deref() == Some("failed");
                        view! {
                            <h1>"Sign in to Latchkey"</h1>
                            {failed
                                .then(|| {
                                    view! {
                                        <p
                                            class="notice notice-error"
                                            role="alert"
                                            data-testid="sso-failed"
                                        >
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
                    }
                }}
            </div>
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
        {opts.password.then(|| view! { <PasswordForm/> })}
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    reload_on_success(sign_in, "/");
    let error = move || match sign_in.value().get() {
        Some(Err(e)) => Some(
            e.field_message("password")
                .or_else(|| e.field_message("email"))
                .unwrap_or_else(|| e.to_string()),
        ),
        _ => None,
    };
    view! {
        <ActionForm action=sign_in attr:data-testid="sign-in-form">
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="username" required/>
            <label for="password">"Password"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
            />
            {move || {
                error()
                    .map(|msg| {
                        view! {
                            <p class="field-error" role="alert" data-testid="sign-in-error">
                                {msg}
                            </p>
                        }
                    })
            }}
            <button type="submit" class="btn btn-primary" disabled=move || sign_in.pending().get()>
                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
    }
}
