//! Server functions for Settings ▸ Members. Each starts with `require`: owners and admins only,
//! and the store applies who may touch whom (an admin never an owner).

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::views::{InvitationView, MemberView};
pub use latchkey_domain::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersData {
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    /// The caller's own role and id: what their rows may offer.
    pub my_role: Role,
    pub my_user_id: i64,
    pub now: i64,
}

/// The one answer that carries an invitation link: shown once (unless it was mailed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvite {
    pub invitation: InvitationView,
    /// `/invite#lki_…`, or `None` when it was mailed instead.
    pub link_path: Option<String>,
}

#[server(endpoint = "members/list", input = Json)]
pub async fn list_members(tenant: i64) -> Result<MembersData, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewMembers, tenant).await?;
    let db = &state()?.db;
    Ok(MembersData {
        members: store::members::list(db, session.tenant_id).await?,
        invitations: store::members::invites::pending(db, session.tenant_id).await?,
        my_role: session.role,
        my_user_id: session.user_id,
        now: db.clock.now_ms(),
    })
}

#[server(endpoint = "members/invite")]
pub async fn invite_member(
    tenant: i64,
    email: String,
    role: Role,
) -> Result<CreatedInvite, AppError> {
    use crate::guard::{require, set_notice, state};
    use latchkey_domain::Action;
    use store::members::{invites, Manager};

    let session = require(Action::ManageMembers, tenant).await?;
    let state = state()?;
    let (invitation, token) = invites::invite_to(
        &state.db,
        session.tenant_id,
        Manager::Role(session.role),
        &session.actor(),
        &email,
        role,
        store::members::mails_invitations(&state),
    )
    .await?;
    let path = format!("/invite#{}", token.expose());
    let mailed =
        store::members::deliver_invitation(&state, &invitation, &session.name, &path).await?;
    // Said by the page that loads once the dialog (with the link, if not mailed) is closed.
    set_notice(&format!("Invited {}.", invitation.email));
    Ok(CreatedInvite {
        invitation,
        link_path: (!mailed).then_some(path),
    })
}

/// Posted by the role select's plain form: it lands back on the page with a notice.
#[server(endpoint = "members/change_role")]
pub async fn change_member_role(
    tenant: i64,
    user_id: i64,
    role: String,
) -> Result<MemberView, AppError> {
    use crate::guard::{require, set_notice, state};
    use latchkey_domain::Action;
    use store::members::Manager;

    let session = require(Action::ManageMembers, tenant).await?;
    let role: Role = role
        .parse()
        .map_err(|_| AppError::field("role", "Choose a role."))?;
    let member = store::members::change_role(
        &state()?.db,
        session.tenant_id,
        Manager::Role(session.role),
        &session.actor(),
        user_id,
        role,
    )
    .await?;
    set_notice(&format!("{} is now {}.", member.name, role.label()));
    Ok(member)
}

/// Posted by the Remove dialog's plain form (`name` only words its notice). Leaving lands on `/`,
/// as this organisation is no longer yours; removing someone else lands back on the page.
#[server(endpoint = "members/remove")]
pub async fn remove_member(
    tenant: i64,
    user_id: i64,
    name: Option<String>,
) -> Result<(), AppError> {
    use crate::guard::{require, set_notice, state};
    use latchkey_domain::Action;
    use store::members::Manager;

    let session = require(Action::ManageMembers, tenant).await?;
    store::members::remove(
        &state()?.db,
        session.tenant_id,
        Manager::Role(session.role),
        &session.actor(),
        user_id,
    )
    .await?;
    if user_id == session.user_id {
        set_notice("You left the organisation.");
        leptos_axum::redirect("/");
    } else {
        set_notice(&format!(
            "Removed {}.",
            name.as_deref().unwrap_or("the member")
        ));
    }
    Ok(())
}

/// Posted by the Withdraw button's plain form (`email` only words its notice).
#[server(endpoint = "members/revoke_invite")]
pub async fn revoke_invite(tenant: i64, id: i64, email: Option<String>) -> Result<(), AppError> {
    use crate::guard::{require, set_notice, state};
    use latchkey_domain::Action;
    use store::members::{invites, Manager};

    let session = require(Action::ManageMembers, tenant).await?;
    invites::revoke(
        &state()?.db,
        session.tenant_id,
        Manager::Role(session.role),
        &session.actor(),
        id,
    )
    .await?;
    set_notice(&match email {
        Some(email) => format!("Withdrew the invitation for {email}."),
        None => "Withdrew the invitation.".to_owned(),
    });
    Ok(())
}
