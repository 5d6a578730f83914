//! Settings ▸ Members: everyone in the organisation with their role, pending invitations, and
//! for owners and admins the controls SPEC §2 allows them (an admin never touches an owner).

pub mod api;
mod invite_dialog;
mod member_row;

use crate::components::{
    DataTable, ErrorNotice, ErrorView, Loaded, NoAccessCard, PageHeader, PageTenant, When,
};
use crate::error::AppError;
use api::*;
use invite_dialog::InviteDialog;
use leptos::prelude::*;
use member_row::MemberRow;

#[component]
pub fn MembersPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let withdraw = ServerAction::<RevokeInvite>::new();
    let inviting = RwSignal::new(false);
    // The caller's role, once the list says it: the invite dialog offers only what it may grant.
    let my_role = RwSignal::new(None::<Role>);
    let tenant = PageTenant::from_context();
    let data = Resource::new(
        move || {
            invite.version().get()
                + change.version().get()
                + remove.version().get()
                + withdraw.version().get()
        },
        move |_| async move { list_members(tenant.get().await?).await },
    );
    let on_error: ErrorView = Callback::new(|e: AppError| {
        matches!(e, AppError::Forbidden).then(|| {
            view! {
                <NoAccessCard
                    title="You don't have access to members"
                    message="Only owners and admins can see and manage this organisation's members."
                />
            }
            .into_any()
        })
    });
    // A refused change says why above the table (e.g. the last owner).
    let refusal = move || {
        change
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
            .or_else(|| withdraw.value().get().and_then(Result::err))
            .map(|e| view! { <ErrorNotice error=e/> })
    };
    view! {
        <PageHeader title="Members" description="Who belongs to this organisation, and what each may do."/>
        {refusal}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=data on_error=on_error let:d>
                <Members d=d inviting=inviting my_role=my_role change=change remove=remove withdraw=withdraw/>
            </Loaded>
        </Transition>
        <InviteDialog open=inviting action=invite my_role=my_role/>
    }
}

#[component]
fn Members(
    d: MembersData,
    inviting: RwSignal<bool>,
    my_role: RwSignal<Option<Role>>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    withdraw: ServerAction<RevokeInvite>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let (me, now) = (d.my_user_id, d.now);
    let role = d.my_role;
    Effect::new(move |_| my_role.set(Some(role)));
    let my_role = role;
    let invitations = d.invitations;
    view! {
        <div class="toolbar">
            <button type="button" class="btn btn-primary" on:click=move |_| inviting.set(true)>
                "Invite member"
            </button>
        </div>
        <DataTable
            headers=&["Name", "Email", "Role", "Joined", "Last sign-in"]
            actions=true
            testid="members-table"
        >
            {d.members
                .into_iter()
                .map(|m| view! { <MemberRow m=m me=me my_role=my_role now=now change=change remove=remove/> })
                .collect_view()}
        </DataTable>
        <h2 class="section-title">"Pending invitations"</h2>
        <DataTable
            headers=&["Email", "Role", "Invited by", "Sent", "Expires"]
            actions=true
            testid="invitations-table"
            empty=invitations.is_empty().then_some(("no-invitations", "No pending invitations."))
        >
            {invitations
                .into_iter()
                .map(|i| {
                    let id = i.id;
                    let email = i.email.clone();
                    let may = latchkey_domain::members::may_grant(my_role, i.role).is_ok();
                    view! {
                        <tr data-testid="invitation-row">
                            <td>{i.email.clone()}</td>
                            <td>{i.role.label()}</td>
                            <td>{i.invited_by.clone()}</td>
                            <td><When at=i.created_at now=now/></td>
                            <td><When at=i.expires_at now=now/></td>
                            <td>
                                {may.then(|| view! {
                                    <button
                                        type="button"
                                        class="btn btn-small"
                                        aria-label=format!("Withdraw the invitation for {email}")
                                        on:click=move |_| {
                                            withdraw.dispatch(RevokeInvite { tenant: tenant.now(), id });
                                        }
                                    >
                                        "Withdraw"
                                    </button>
                                })}
                            </td>
                        </tr>
                    }
                })
                .collect_view()}
        </DataTable>
    }
}
