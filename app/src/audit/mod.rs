//! The append-only audit log. The page comes with its own issue; events are written from day one.

use crate::components::ComingSoon;
use leptos::prelude::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <ComingSoon title="Audit log" what="Every change to keys, plans and members, filterable and exportable."/> }
}
