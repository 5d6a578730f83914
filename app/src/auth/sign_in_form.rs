//! The email and password form: a plain HTML form posting to `sign_in`, which answers with a
//! redirect to `/` or back here with the error. It ships no code.

use crate::auth::api::SignIn;
use crate::components::posted_error;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn SignInForm() -> impl IntoView {
    let error = posted_error::<SignIn>().map(|e| {
        e.field_message("password")
            .or_else(|| e.field_message("email"))
            .unwrap_or_else(|| e.to_string())
    });
    view! {
        <form method="post" action=SignIn::PATH data-testid="sign-in-form">
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
            {error
                .map(|msg| {
                    view! {
                        <p class="field-error" role="alert" data-testid="sign-in-error">
                            {msg}
                        </p>
                    }
                })}
            <button type="submit" class="btn btn-primary">
                "Sign in"
            </button>
        </form>
    }
}
