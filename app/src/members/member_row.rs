//! One member's row: their facts, and the role select and Remove button the caller may use on
//! them (none on an owner for an admin; the server refuses the same). Also the Withdraw button
//! of a pending invitation. All drawn on the server, as plain forms.

use super::api::{ChangeMemberRole, MemberView, RemoveMember, RevokeInvite, Role};
use crate::components::{FilterForm, When};
use latchkey_domain::members::{may_change_role, may_touch};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

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
/// The role select (a change applies at once, through the shared `FilterForm` island) and
/// Remove, which asks first in a native dialog. Plain forms: they land back on the page.
#[component]
fn MemberActions(
    tenant: i64,
    user_id: i64,
    name: String,
    is_me: bool,
    current: Role,
    offered: Vec<Role>,
) -> impl IntoView {
    let verb = if is_me { "Leave" } else { "Remove" };
    let role_label = format!("Role of {name}");
    let dialog_id = format!("remove-member-{user_id}");
    let (opens, closes) = (dialog_id.clone(), dialog_id.clone());
    let question = if is_me {
        "Leave this organisation? You lose access to it until someone invites you again.".to_owned()
    } else {
        format!("Remove {name}? They lose access to this organisation at once.")
    };
    let hidden = move || {
        view! {
            <input type="hidden" name="tenant" value=tenant.to_string()/>
            <input type="hidden" name="user_id" value=user_id.to_string()/>
        }
    };
    view! {
        <div class="row-actions">
            <FilterForm>
                <form method="post" action=ChangeMemberRole::PATH class="inline-form">
                    {hidden()}
                    <label class="sr-only" for=format!("role-{user_id}")>{role_label.clone()}</label>
                    <select
                        id=format!("role-{user_id}")
                        name="role"
                        data-testid="member-role-select"
                        data-apply="change"
                        aria-label=role_label
                    >
                        {offered
                            .into_iter()
                            .map(|r| view! { <option value=r.as_str() selected=r == current>{r.label()}</option> })
                            .collect_view()}
                    </select>
                </form>
            </FilterForm>
            <button
                type="button"
                class="btn btn-small btn-danger"
                data-testid="member-remove"
                aria-label=format!("{verb} {name}")
                commandfor=opens
                command="show-modal"
            >
                {verb}
            </button>
            <dialog id=dialog_id aria-label=format!("{verb} {name}") data-testid="member-remove-dialog">
                <form method="post" action=RemoveMember::PATH class="dialog-body">
                    {hidden()}
                    <input type="hidden" name="name" value=name.clone()/>
                    <p>{question}</p>
                    <div class="dialog-actions">
                        <button type="button" class="btn" commandfor=closes command="close">
                            "Cancel"
                        </button>
                        <button type="submit" class="btn btn-danger" data-testid="confirm-remove">
                            {verb}
                        </button>
                    </div>
                </form>
            </dialog>
        </div>
    }
}

/// A pending invitation's Withdraw: a plain form that lands back on the page.
#[component]
pub fn WithdrawInvite(tenant: i64, id: i64, email: String) -> impl IntoView {
    let label = format!("Withdraw the invitation for {email}");
    view! {
        <form method="post" action=RevokeInvite::PATH class="inline-form">
            <input type="hidden" name="tenant" value=tenant.to_string()/>
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="email" value=email/>
            <button type="submit" class="btn btn-small" aria-label=label>
                "Withdraw"
            </button>
        </form>
    }
}
