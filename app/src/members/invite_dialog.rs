//! The "Invite member" button and its dialog (an island): an email and a role, then the link,
//! shown once with Copy (or word that it was mailed). Closing after an invitation reloads the
//! page, which then lists it.

use super::api::{InviteMember, Role};
use crate::components::browser::{copy_text, origin, reload};
use crate::components::{form_error, Field, Modal};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// `my_role` is the caller's: the dialog offers only the roles it may grant.
// An island in the `members` bundle only (`islands-members`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-members", island)]
#[cfg_attr(not(feature = "islands-members"), component)]
pub fn InviteButton(tenant: i64, my_role: Role) -> impl IntoView {
    let open = RwSignal::new(false);
    let action = ServerAction::<InviteMember>::new();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member);
    let copied = RwSignal::new(None::<bool>);
    let close = move || {
        // An invitation was made: the page draws it from the server. The link leaves the
        // page's memory with the dialog either way.
        if let Some(Ok(_)) = action.value().get_untracked() {
            reload();
        }
        action.value().set(None);
        email.set(String::new());
        copied.set(None);
        open.set(false);
    };
    let created = move || action.value().get().and_then(Result::ok);
    view! {
        <button type="button" class="btn btn-primary" on:click=move |_| open.set(true)>
            "Invite member"
        </button>
        <Modal open=open.into() on_close=Callback::new(move |_| close()) label="Invite member" testid="invite-dialog">
            {move || match created() {
                Some(c) => {
                    let link = c.link_path.clone().map(|p| format!("{}{p}", origin()));
                    view! {
                        <h2>"Invitation for " {c.invitation.email.clone()}</h2>
                        {match link {
                            Some(link) => {
                                let for_copy = link.clone();
                                view! {
                                    <p>
                                        "Send this link to them. It works once, for 7 days, and is shown only now."
                                    </p>
                                    <code class="secret" data-testid="invite-link">{link}</code>
                                    <div class="dialog-actions">
                                        <button
                                            type="button"
                                            class="btn"
                                            data-testid="copy-invite-link"
                                            on:click=move |_| {
                                                let l = for_copy.clone();
                                                spawn_local(async move { copied.set(Some(copy_text(l).await)) });
                                            }
                                        >
                                            {move || match copied.get() {
                                                Some(true) => "Copied",
                                                Some(false) => "Copy failed: select the link",
                                                None => "Copy link",
                                            }}
                                        </button>
                                        <button type="button" class="btn btn-primary" on:click=move |_| close()>
                                            "Done"
                                        </button>
                                    </div>
                                }
                                .into_any()
                            }
                            None => view! {
                                <p data-testid="invite-mailed">"We emailed them the link. It works once, for 7 days."</p>
                                <div class="dialog-actions">
                                    <button type="button" class="btn btn-primary" on:click=move |_| close()>"Done"</button>
                                </div>
                            }
                            .into_any(),
                        }}
                    }
                    .into_any()
                }
                None => view! {
                    <h2>"Invite member"</h2>
                    {form_error(action)}
                    <Field id="invite-email" label="Email" kind="email" value=email action=action field="email"/>
                    <label for="invite-role">"Role"</label>
                    <select
                        id="invite-role"
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                                role.set(r);
                            }
                        }
                    >
                        {Role::ALL
                            .into_iter()
                            .filter(|r| latchkey_domain::members::may_grant(my_role, *r).is_ok())
                            .map(|r| view! { <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option> })
                            .collect_view()}
                    </select>
                    <div class="dialog-actions">
                        <button type="button" class="btn" on:click=move |_| close()>"Cancel"</button>
                        <button
                            type="button"
                            class="btn btn-primary"
                            disabled=move || action.pending().get()
                            on:click=move |_| {
                                action.dispatch(InviteMember {
                                    tenant,
                                    email: email.get_untracked(),
                                    role: role.get_untracked(),
                                });
                            }
                        >
                            "Send invitation"
                        </button>
                    </div>
                }
                .into_any(),
            }}
        </Modal>
    }
}
