//! `/invite#lki_…`: what the invitation is for, then joining — with a new account, or with one
//! click when signed in with the invited email. Used, expired and withdrawn links say so.
//!
//! The token lives in the fragment, which only the browser sees: the page script
//! ([`Enhancer`](crate::components::enhance)) posts it to [`InvitationPanel`], which answers
//! the rest of the card, drawn here on the server ([`panel`]).

use super::api::{AcceptNew, AcceptSignedIn, InvitationInfo, InvitationPanel, InvitationState};
use crate::components::PASSWORD_HINT;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="accept-invite" data-steps>
                <h1>"Join an organisation on Latchkey"</h1>
                <form method="post" action=InvitationPanel::PATH data-enhance data-autosubmit data-then="html">
                    <input type="hidden" name="token" data-from-hash/>
                    <div data-form-error></div>
                    <p class="loading" data-while-pending>"Reading the invitation…"</p>
                </form>
                <div data-step="result" hidden></div>
            </div>
        </main>
    }
}

/// The card below the heading for a looked-up invitation (`None`: no such link).
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub fn panel(info: Option<InvitationInfo>, token: String) -> AnyView {
    let Some(info) = info else {
        return view! {
            <p class="notice notice-error" role="alert" data-testid="invite-unusable">
                "This invitation link isn't valid. Check you copied all of it, or ask for a new one."
            </p>
        }
        .into_any();
    };
    let inv = info.invitation;
    if inv.state != InvitationState::Pending {
        let why = match inv.state {
            InvitationState::Accepted => "This invitation was already used.",
            InvitationState::Revoked => "This invitation was withdrawn.",
            _ => "This invitation has expired.",
        };
        return view! {
            <p class="notice notice-error" role="alert" data-testid="invite-unusable">
                {why} " Ask " {inv.invited_by} " for a new one."
            </p>
        }
        .into_any();
    }
    let intro = view! {
        <p data-testid="invite-summary">
            {inv.invited_by.clone()} " invited " <strong>{inv.email.clone()}</strong> " to "
            <strong>{inv.tenant_name.clone()}</strong> " as " <strong>{inv.role.label()}</strong> "."
        </p>
    };
    match info.signed_in_as {
        Some(me) if me == inv.email => view! {
            {intro}
            <form method="post" action=AcceptSignedIn::PATH data-enhance data-then="go" data-go="/">
                <div data-form-error></div>
                <input type="hidden" name="token" value=token/>
                <button type="submit" class="btn btn-primary">"Join " {inv.tenant_name.clone()}</button>
            </form>
        }
        .into_any(),
        Some(me) => view! {
            {intro}
            <p class="notice notice-error" role="alert">
                "You are signed in as " {me} ". Sign out, then open the link again to accept as "
                {inv.email.clone()} "."
            </p>
        }
        .into_any(),
        None => view! {
            {intro}
            <form method="post" action=AcceptNew::PATH data-enhance data-then="go" data-go="/" novalidate>
                <p>"Choose your name and a password to create your account."</p>
                <div data-form-error></div>
                <input type="hidden" name="token" value=token/>
                <label for="invite-name">"Your name"</label>
                <input id="invite-name" name="name" autocomplete="name"/>
                <div data-error-for="name"></div>
                <label for="invite-password">"Password"</label>
                <input id="invite-password" name="password" type="password" autocomplete="new-password"/>
                <p class="muted">{PASSWORD_HINT}</p>
                <div data-error-for="password"></div>
                <button type="submit" class="btn btn-primary">"Create account and join"</button>
            </form>
        }
        .into_any(),
    }
}
