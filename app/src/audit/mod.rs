//! The append-only audit log. The page comes with its own issue; events are written from day one.

#[cfg(feature = "ssr")]
pub mod server;

use crate::ui::ComingSoon;
use leptos::prelude::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <ComingSoon title="Audit log" what="Every change to keys, plans and members, filterable and exportable."/> }
}
