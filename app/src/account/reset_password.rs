//! `/reset#lkr_…`: set a new password through the operator's single-use link. The page is drawn
//! on the server; the form is an island, as only the browser sees the fragment's token.

use super::api::ResetPassword;
use crate::components::browser::location_hash;
use crate::components::{form_error, Field, PASSWORD_HINT};
use leptos::prelude::*;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="reset-password">
                <h1>"Choose a new password"</h1>
                <ResetPasswordForm/>
            </div>
        </main>
    }
}

// An island in the `entry` bundle only (`islands-entry`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-entry", island)]
#[cfg_attr(not(feature = "islands-entry"), component)]
fn ResetPasswordForm() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let token = RwSignal::new(String::new());
    Effect::new(move |_| token.set(location_hash()));
    let password = RwSignal::new(String::new());
    let done = move || matches!(reset.value().get(), Some(Ok(())));
    move || {
        if done() {
            view! {
                <p class="notice" role="status" data-testid="password-reset-done">
                    "Your password is set and every session has ended. "
                    <a href="/signin">"Sign in"</a>
                </p>
            }
            .into_any()
        } else {
            view! {
                {form_error(reset)}
                <Field id="reset-password" label="New password" kind="password"
                    autocomplete="new-password" value=password action=reset field="new_password"
                    hint=PASSWORD_HINT/>
                <button
                    type="button"
                    class="btn btn-primary"
                    on:click=move |_| {
                        reset.dispatch(ResetPassword {
                            token: token.get_untracked(),
                            new_password: password.get_untracked(),
                        });
                    }
                >
                    "Set password"
                </button>
            }
            .into_any()
        }
    }
}
