//! The change-password form on `/account`: an island; its notice shows in place (this session
//! stays, so nothing else on the page changes).

use super::api::ChangePassword;
use crate::components::{form_error, Field, PASSWORD_HINT};
use leptos::prelude::*;

#[island]
pub fn ChangePasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        {move || done().then(|| view! {
            <p class="notice" role="status" data-testid="password-changed">
                "Password changed. Your other sessions have ended."
            </p>
        })}
        {form_error(change)}
        <Field id="current-password" label="Current password" kind="password"
            autocomplete="current-password" value=current action=change field="current_password"/>
        <Field id="new-password" label="New password" kind="password" autocomplete="new-password"
            value=new action=change field="new_password" hint=PASSWORD_HINT/>
        <button
            type="button"
            class="btn btn-primary"
            disabled=move || change.pending().get()
            on:click=move |_| {
                change.dispatch(ChangePassword {
                    current_password: current.get_untracked(),
                    new_password: new.get_untracked(),
                });
                current.set(String::new());
                new.set(String::new());
            }
        >
            "Change password"
        </button>
    }
}
