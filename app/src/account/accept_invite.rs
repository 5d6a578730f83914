//! `/invite#lki_…`: what the invitation is for, then joining — with a new account, or with one
//! click when signed in with the invited email. Used, expired and withdrawn links say so.
//!
//! The page is drawn on the server; everything below the heading is one island, because the
//! token lives in the fragment, which only the browser sees.

use super::api::{lookup_invitation, AcceptNew, AcceptSignedIn, InvitationInfo, InvitationState};
use crate::components::browser::{location_hash, navigate_hard};
use crate::components::{form_error, reload_on_success, ErrorNotice, Field, PASSWORD_HINT};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="accept-invite">
                <h1>"Join an organisation on Latchkey"</h1>
                <AcceptInvite/>
            </div>
        </main>
    }
}

/// Reads the token once hydrated, looks the invitation up, and offers the way to join.
// An island in the `entry` bundle only (`islands-entry`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-entry", island)]
#[cfg_attr(not(feature = "islands-entry"), component)]
fn AcceptInvite() -> impl IntoView {
    // `None` until the browser has read the fragment.
    let token = RwSignal::new(None::<String>);
    let info = RwSignal::new(None::<Result<InvitationInfo, AppError>>);
    Effect::new(move |_| {
        let t = location_hash();
        token.set(Some(t.clone()));
        if !t.is_empty() {
            spawn_local(async move { info.set(Some(lookup_invitation(t).await)) });
        }
    });
    move || {
        match (token.get(), info.get()) {
        (Some(t), Some(Ok(i))) => view! { <Invitation info=i token=t/> }.into_any(),
        (Some(t), None) if !t.is_empty() => reading().into_any(),
        (Some(_), _) => view! {
            <p class="notice notice-error" role="alert" data-testid="invite-unusable">
                "This invitation link isn't valid. Check you copied all of it, or ask for a new one."
            </p>
        }
        .into_any(),
        (None, _) => reading().into_any(),
    }
    }
}

fn reading() -> impl IntoView {
    view! { <p class="loading">"Reading the invitation…"</p> }
}

#[component]
fn Invitation(info: InvitationInfo, token: String) -> impl IntoView {
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
        Some(me) if me == inv.email => {
            let join = ServerAction::<AcceptSignedIn>::new();
            reload_on_success(join, "/");
            view! {
                {intro}
                {form_error(join)}
                <button
                    type="button"
                    class="btn btn-primary"
                    on:click=move |_| {
                        join.dispatch(AcceptSignedIn { token: token.clone() });
                    }
                >
                    "Join " {inv.tenant_name.clone()}
                </button>
            }
            .into_any()
        }
        Some(me) => view! {
            {intro}
            <p class="notice notice-error" role="alert">
                "You are signed in as " {me} ". Sign out, then open the link again to accept as "
                {inv.email.clone()} "."
            </p>
        }
        .into_any(),
        None => view! { {intro} <NewAccount token=token/> }.into_any(),
    }
}

#[component]
fn NewAccount(token: String) -> impl IntoView {
    let accept = ServerAction::<AcceptNew>::new();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = accept.value().get() {
            navigate_hard("/");
        }
    });
    let other_error = move || {
        accept
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e, AppError::Validation(_)))
            .map(|e| view! { <ErrorNotice error=e/> })
    };
    view! {
        <p>"Choose your name and a password to create your account."</p>
        {other_error}
        <Field id="invite-name" label="Your name" autocomplete="name" value=name action=accept field="name"/>
        <Field id="invite-password" label="Password" kind="password" autocomplete="new-password"
            value=password action=accept field="password" hint=PASSWORD_HINT/>
        <button
            type="button"
            class="btn btn-primary"
            disabled=move || accept.pending().get()
            on:click=move |_| {
                accept.dispatch(AcceptNew {
                    token: token.clone(),
                    name: name.get_untracked(),
                    password: password.get_untracked(),
                });
            }
        >
            "Create account and join"
        </button>
    }
}
