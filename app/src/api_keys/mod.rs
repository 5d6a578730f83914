//! Settings ▸ API Keys.

use crate::ui::ComingSoon;
use leptos::prelude::*;

#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <ComingSoon title="API Keys" what="Create, edit and revoke scoped API keys here."/> }
}
