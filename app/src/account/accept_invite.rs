//! `/invite#lki_…`: what the invitation is for, then joining — with a new account, or with one
//! click when signed in with the invited email. Used, expired and withdrawn links say so.

use super::api::{lookup_invitation, AcceptNew, AcceptSignedIn, InvitationInfo, InvitationState};
use crate::components::browser::{location_hash, navigate_hard};
use crate::components::{form_error, reload_on_success, ErrorNotice, Field, PASSWORD_HINT};
use leptos::prelude::*;

#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    // The token lives in the fragment, which only the browser sees: read it once hydrated.
    let token = RwSignal::new(None::<String>);
    Effect::new(move |_| token.set(Some(location_hash())));
    let info = LocalResource::new(move || {
        let t = token.get();
        async move {
            match t {
                Some(t) if !t.is_empty() => Some(lookup_invitation(t).await),
                _ => None,
            }
        }
    });
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="accept-invite">
                <h1>"Join an organisation on Latchkey"</h1>
                <Suspense fallback=|| view! { <p class="loading">"Reading the invitation…"</p> }>
                    {move || Suspend::new(async move {
                        match (info.await, token.get()) {
                            (Some(Ok(i)), Some(t)) => view! { <Invitation info=i token=t/> }.into_any(),
                            (Some(Err(_)), _) | (None, Some(_)) => view! {
                                <p class="notice notice-error" role="alert" data-testid="invite-unusable">
                                    "This invitation link isn't valid. Check you copied all of it, or ask for a new one."
                                </p>
                            }
                            .into_any(),
                            _ => view! { <p class="loading">"Reading the invitation…"</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
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
    view! {
        <p>"Choose your name and a password to create your account."</p>
        {move || accept.value().get().and_then(Result::err).filter(|e| !matches!(e, crate::error::AppError::Validation(_))).map(|e| view! { <ErrorNotice error=e/> })}
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
