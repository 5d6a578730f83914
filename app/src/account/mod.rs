//! One's own account (change password, sign out everywhere) and the pages one-time links open:
//! `/invite#…` and `/reset#…`.

mod accept_invite;
pub mod api;
mod change_password;
mod reset_password;

pub use accept_invite::AcceptInvitePage;
pub use reset_password::ResetPasswordPage;

use crate::components::PageHeader;
use change_password::ChangePasswordForm;
use leptos::prelude::*;

/// `/account`: change your password (the current one is required; your other sessions end).
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <PageHeader title="Your account" description="Your password and your sessions."/>
        <section class="card">
            <h2>"Change password"</h2>
            <ChangePasswordForm/>
        </section>
    }
}
