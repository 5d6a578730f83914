//! One's own account (change password, sign out everywhere) and the pages one-time links open:
//! `/invite#…` and `/reset#…`.

mod accept_invite;
pub mod api;
mod reset_password;

pub use accept_invite::AcceptInvitePage;
pub use reset_password::ResetPasswordPage;

use crate::components::{form_error, Field, PageHeader, PASSWORD_HINT};
use api::ChangePassword;
use leptos::prelude::*;

/// `/account`: change your password (the current one is required; your other sessions end).
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <PageHeader title="Your account" description="Your password and your sessions."/>
        <section class="card">
            <h2>"Change password"</h2>
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
        </section>
    }
}
