//! One member's row: their facts (server-rendered), and the role select and Remove button the
//! caller may use on them (none on an owner for an admin; the server refuses the same), which
//! are an island. Also the Withdraw button of a pending invitation.

use super::api::{change_member_role, remove_member, revoke_invite, MemberView, Role};
use crate::components::browser::{navigate_hard, reload};
use crate::components::{flash, ErrorNotice, When};
use crate::error::AppError;
use latchkey_domain::members::{may_change_role, may_touch};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn MemberRow(m: MemberView, me: i64, my_role: Role, now: i64, tenant: i64) -> impl IntoView {
    let user_id = m.user_id;
    let controls = may_touch(my_role, m.role).is_ok().then(|| {
        let offered: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|to| *to == m.role || may_change_role(my_role, m.role, *to).is_ok())
            .collect();
        view! {
            <MemberActions
                tenant=tenant
                user_id=user_id
                name=m.name.clone()
                is_me=user_id == me
                current=m.role
                offered=offered
            />
        }
    });
    view! {
        <tr data-testid="member-row" data-email=m.email.clone()>
            <td>
                <strong>{m.name.clone()}</strong>
                {(user_id == me).then(|| view! { <span class="muted">" (you)"</span> })}
            </td>
            <td>{m.email.clone()}</td>
            <td data-testid="member-role">{m.role.label()}</td>
            <td><When at=m.joined_at now=now/></td>
            <td>
                {match m.last_sign_in_at {
                    Some(at) => view! { <When at=at now=now/> }.into_any(),
                    None => "Never".into_any(),
                }}
            </td>
            <td>{controls}</td>
        </tr>
    }
}

/// The role select and Remove (or Leave) of one member; `offered` is what the caller may set.
#[island]
fn MemberActions(
    tenant: i64,
    user_id: i64,
    name: String,
    is_me: bool,
    current: Role,
    offered: Vec<Role>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    // Removing asks once more on the button itself: a stray click must not remove anyone.
    let confirming = RwSignal::new(false);
    let verb = if is_me { "Leave" } else { "Remove" };
    let role_label = format!("Role of {name}");
    let done = move |result: Result<(), AppError>, notice: String, leaving: bool| match result {
        Ok(()) => {
            flash::set(&notice);
            // Whoever leaves has no members page to come back to.
            if leaving {
                navigate_hard("/");
            } else {
                reload();
            }
        }
        Err(e) => {
            busy.set(false);
            error.set(Some(e));
        }
    };
    let who = name.clone();
    let on_role = move |ev: leptos::ev::Event| {
        let Ok(role) = event_target_value(&ev).parse::<Role>() else {
            return;
        };
        busy.set(true);
        let who = who.clone();
        spawn_local(async move {
            let r = change_member_role(tenant, user_id, role).await.map(|_| ());
            done(r, format!("{who} is now {}.", role.label()), false);
        });
    };
    let who = name.clone();
    let on_remove = move |_: leptos::ev::MouseEvent| {
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        busy.set(true);
        let who = who.clone();
        spawn_local(async move {
            let r = remove_member(tenant, user_id).await;
            let notice = if is_me {
                "You left the organisation.".to_owned()
            } else {
                format!("Removed {who}.")
            };
            done(r, notice, is_me);
        });
    };
    view! {
        <div class="row-actions">
            <label class="sr-only" for=format!("role-{user_id}")>{role_label.clone()}</label>
            <select
                id=format!("role-{user_id}")
                data-testid="member-role-select"
                aria-label=role_label
                disabled=move || busy.get()
                on:change=on_role
            >
                {offered
                    .into_iter()
                    .map(|r| view! { <option value=r.as_str() selected=r == current>{r.label()}</option> })
                    .collect_view()}
            </select>
            <button
                type="button"
                class="btn btn-small btn-danger"
                data-testid="member-remove"
                aria-label=format!("Remove {name}")
                disabled=move || busy.get()
                on:click=on_remove
                on:blur=move |_| confirming.set(false)
            >
                {move || if confirming.get() { format!("Confirm: {}", verb.to_lowercase()) } else { verb.to_owned() }}
            </button>
        </div>
        // A refused change says why beside the controls (e.g. the last owner).
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
    }
}

/// Withdraws one pending invitation.
#[island]
pub fn WithdrawInvite(tenant: i64, id: i64, email: String) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let label = format!("Withdraw the invitation for {email}");
    let on_click = move |_: leptos::ev::MouseEvent| {
        busy.set(true);
        let email = email.clone();
        spawn_local(async move {
            match revoke_invite(tenant, id).await {
                Ok(()) => {
                    flash::set(&format!("Withdrew the invitation for {email}."));
                    reload();
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <button
            type="button"
            class="btn btn-small"
            aria-label=label
            disabled=move || busy.get()
            on:click=on_click
        >
            "Withdraw"
        </button>
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
    }
}
