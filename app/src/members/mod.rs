//! Settings ▸ Members: everyone in the organisation with their role, pending invitations, and
//! for owners and admins the controls SPEC §2 allows them (an admin never touches an owner).
//!
//! The page and its tables render on the server; the invite button is an island (it shows the
//! invitation link once); each row's role select and Remove, and each invitation's Withdraw, are
//! plain forms that land back on the page.

pub mod api;
mod invite_dialog;
mod member_row;

use crate::components::{
    posted_error, posted_form_error, DataTable, ErrorView, Loaded, NoAccessCard, PageHeader,
    PageTenant, When,
};
use crate::error::AppError;
use api::*;
use invite_dialog::InviteButton;
use leptos::prelude::*;
use member_row::{MemberRow, WithdrawInvite};

#[component]
pub fn MembersPage() -> impl IntoView {
    let tenant = PageTenant::from_context();
    let data = Resource::new(
        || (),
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
    view! {
        <PageHeader title="Members" description="Who belongs to this organisation, and what each may do."/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=data on_error=on_error let:d>
                <Members d=d tenant=tenant.now()/>
            </Loaded>
        </Transition>
    }
}

#[component]
fn Members(d: MembersData, tenant: i64) -> impl IntoView {
    let (me, now, my_role) = (d.my_user_id, d.now, d.my_role);
    let invitations = d.invitations;
    // A refused post from a row (say, removing the last owner) lands back here.
    let refused = posted_error::<ChangeMemberRole>()
        .or_else(posted_error::<RemoveMember>)
        .or_else(posted_error::<RevokeInvite>);
    view! {
        {posted_form_error(&refused)}
        <div class="toolbar">
            <InviteButton tenant=tenant my_role=my_role/>
        </div>
        <DataTable
            headers=&["Name", "Email", "Role", "Joined", "Last sign-in"]
            actions=true
            testid="members-table"
        >
            {d.members
                .into_iter()
                .map(|m| view! { <MemberRow m=m me=me my_role=my_role now=now tenant=tenant/> })
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
                    let may = latchkey_domain::members::may_grant(my_role, i.role).is_ok();
                    view! {
                        <tr data-testid="invitation-row">
                            <td>{i.email.clone()}</td>
                            <td>{i.role.label()}</td>
                            <td>{i.invited_by.clone()}</td>
                            <td><When at=i.created_at now=now/></td>
                            <td><When at=i.expires_at now=now/></td>
                            <td>
                                {may.then(|| view! { <WithdrawInvite tenant=tenant id=i.id email=i.email.clone()/> })}
                            </td>
                        </tr>
                    }
                })
                .collect_view()}
        </DataTable>
    }
}
