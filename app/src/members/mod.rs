//! Settings ▸ Members. Managing members and roles comes with its own issue; until then the page
//! says so, and memberships are managed with `latchkey member add`.

use crate::components::ComingSoon;
use leptos::prelude::*;

#[component]
pub fn MembersPage() -> impl IntoView {
    view! {
        <ComingSoon
            title="Members"
            what="Invite people and change their roles here. Until then, operators use `latchkey member add`."
        />
    }
}
