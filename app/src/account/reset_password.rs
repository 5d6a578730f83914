//! `/reset#lkr_…`: set a new password through the operator's single-use link. Drawn on the
//! server; the page script ([`Enhancer`](crate::components::enhance)) puts the fragment's token,
//! which only the browser sees, into the form and posts it.

use super::api::ResetPassword;
use crate::components::PASSWORD_HINT;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="reset-password" data-steps>
                <h1>"Choose a new password"</h1>
                <form method="post" action=ResetPassword::PATH data-enhance data-then="show" novalidate>
                    <div data-form-error></div>
                    <input type="hidden" name="token" data-from-hash/>
                    <label for="reset-password">"New password"</label>
                    <input id="reset-password" name="new_password" type="password" autocomplete="new-password"/>
                    <p class="muted">{PASSWORD_HINT}</p>
                    <div data-error-for="new_password"></div>
                    // Without the script the token (in the fragment) would not be sent.
                    <button type="submit" class="btn btn-primary" data-live disabled>
                        "Set password"
                    </button>
                </form>
                <p class="notice" role="status" data-testid="password-reset-done" data-step="result" hidden>
                    "Your password is set and every session has ended. "
                    <a href="/signin">"Sign in"</a>
                </p>
            </div>
        </main>
    }
}
