//! The "Invite member" button and its dialog, drawn on the server: an email and a role, then the
//! link, shown once with Copy (or word that it was mailed). The page's one script
//! ([`Enhancer`](crate::components::enhance)) posts the form and shows the answer; closing after
//! an invitation loads the page again, which then lists it.

use super::api::{InviteMember, Role};
use crate::components::{CopyButton, DialogButtons};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

const DIALOG: &str = "invite-dialog";

/// `my_role` is the caller's: the dialog offers only the roles it may grant.
#[component]
pub fn InviteButton(tenant: i64, my_role: Role) -> impl IntoView {
    let done = || {
        view! {
            <button type="button" class="btn btn-primary" commandfor=DIALOG command="close">
                "Done"
            </button>
        }
    };
    view! {
        <button type="button" class="btn btn-primary" commandfor=DIALOG command="show-modal">
            "Invite member"
        </button>
        <dialog id=DIALOG aria-label="Invite member" data-testid="invite-dialog">
            <div class="dialog-body">
                <form method="post" action=InviteMember::PATH data-enhance novalidate>
                    <h2>"Invite member"</h2>
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    <label for="invite-email">"Email"</label>
                    <input id="invite-email" name="email" type="email" autocomplete="off"/>
                    <div data-error-for="email"></div>
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role">
                        {Role::ALL
                            .into_iter()
                            .filter(|r| latchkey_domain::members::may_grant(my_role, *r).is_ok())
                            .map(|r| {
                                view! {
                                    <option value=r.as_str() selected=r == Role::Member>{r.label()}</option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <DialogButtons dialog=DIALOG label="Send invitation" needs_script=true/>
                </form>
                <div data-step="result" hidden>
                    <h2>"Invitation for " <span data-fill="invitation.email"></span></h2>
                    <div data-if="link_path">
                        <p>"Send this link to them. It works once, for 7 days, and is shown only now."</p>
                        <code class="secret" id="invite-link" data-testid="invite-link" data-fill="link_path" data-fill-origin></code>
                        <div class="dialog-actions">
                            <CopyButton
                                source="invite-link"
                                label="Copy link"
                                failed="Copy failed: select the link"
                                testid="copy-invite-link"
                            />
                            {done()}
                        </div>
                    </div>
                    <div data-unless="link_path">
                        <p data-testid="invite-mailed">"We emailed them the link. It works once, for 7 days."</p>
                        <div class="dialog-actions">{done()}</div>
                    </div>
                </div>
            </div>
        </dialog>
    }
}
