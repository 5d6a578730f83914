//! One member's row: their facts, and the role select and Remove button the caller may use on
//! them (none on an owner for an admin; the server refuses the same).

use super::api::{ChangeMemberRole, MemberView, RemoveMember, Role};
use crate::components::{PageTenant, When};
use latchkey_domain::members::{may_change_role, may_touch};
use leptos::prelude::*;

#[component]
pub fn MemberRow(
    m: MemberView,
    me: i64,
    my_role: Role,
    now: i64,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let user_id = m.user_id;
    let touchable = may_touch(my_role, m.role).is_ok();
    let offered: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|to| *to == m.role || may_change_role(my_role, m.role, *to).is_ok())
        .collect();
    let current = m.role;
    let label = m.name.clone();
    // Removing asks once more on the button itself: a stray click must not remove anyone.
    let confirming = RwSignal::new(false);
    let controls = touchable.then(|| {
        let remove_label = format!("Remove {}", m.name);
        let verb = if user_id == me { "Leave" } else { "Remove" };
        view! {
            <div class="row-actions">
                <label class="sr-only" for=format!("role-{user_id}")>{format!("Role of {label}")}</label>
                <select
                    id=format!("role-{user_id}")
                    data-testid="member-role-select"
                    aria-label=format!("Role of {label}")
                    on:change=move |ev| {
                        if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                            change.dispatch(ChangeMemberRole { tenant: tenant.now(), user_id, role });
                        }
                    }
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
                    aria-label=remove_label
                    on:click=move |_| {
                        if confirming.get_untracked() {
                            remove.dispatch(RemoveMember { tenant: tenant.now(), user_id });
                        }
                        confirming.set(true);
                    }
                    on:blur=move |_| confirming.set(false)
                >
                    {move || if confirming.get() { format!("Confirm: {}", verb.to_lowercase()) } else { verb.to_owned() }}
                </button>
            </div>
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
