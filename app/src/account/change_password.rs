//! The change-password form on `/account`: a plain form posting to `change_password`, which
//! lands back here with a notice (this session stays) or with the error beside its field.

use super::api::ChangePassword;
use crate::components::{posted_error, posted_field_error, posted_form_error, PASSWORD_HINT};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn ChangePasswordForm() -> impl IntoView {
    let error = posted_error::<ChangePassword>();
    view! {
        <form method="post" action=ChangePassword::PATH data-testid="change-password">
            {posted_form_error(&error)}
            <label for="current-password">"Current password"</label>
            <input
                id="current-password"
                name="current_password"
                type="password"
                autocomplete="current-password"
            />
            {posted_field_error(&error, "current_password")}
            <label for="new-password">"New password"</label>
            <input id="new-password" name="new_password" type="password" autocomplete="new-password"/>
            <p class="muted">{PASSWORD_HINT}</p>
            {posted_field_error(&error, "new_password")}
            <button type="submit" class="btn btn-primary">
                "Change password"
            </button>
        </form>
    }
}
