//! The email and password form: an island, as it is what a person operates on `/signin`.

use crate::auth::api::SignIn;
use crate::components::reload_on_success;
use leptos::form::ActionForm;
use leptos::prelude::*;

#[island]
pub fn SignInForm() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    // The session reshapes the whole app: a full page load of `/`.
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
