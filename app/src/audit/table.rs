//! The events table: relative times with the exact UTC time on hover and focus, the target
//! linked when it is a key, and what changed.

use super::api::AuditEntry;
use crate::components::{DataTable, When};
use latchkey_domain::audit::AuditAction;
use leptos::prelude::*;

const HEADERS: &[&str] = &["Time", "Actor", "Action", "Target", "Client IP", "Details"];

#[component]
pub fn AuditTable(rows: Vec<AuditEntry>, now: i64) -> impl IntoView {
    let empty = rows
        .is_empty()
        .then_some(("audit-empty", "No events match these filters."));
    view! {
        <DataTable headers=HEADERS testid="audit-table" empty=empty>
            {rows.into_iter().map(|e| view! { <EventRow e=e now=now/> }).collect_view()}
        </DataTable>
    }
}

#[component]
fn EventRow(e: AuditEntry, now: i64) -> impl IntoView {
    let described = AuditAction::parse(&e.action).map(AuditAction::describe);
    view! {
        <tr data-testid="audit-row" data-event-id=e.id.to_string()>
            <td><When at=e.at now=now/></td>
            <td data-testid="audit-actor">{e.actor}</td>
            <td><code data-testid="audit-action" title=described>{e.action}</code></td>
            <td data-testid="audit-target">{target(e.target_type, e.target_id, e.target_name)}</td>
            <td>{e.client_ip.unwrap_or_default()}</td>
            <td class="audit-details" data-testid="audit-details">{e.summary}</td>
        </tr>
    }
}

fn target(kind: Option<String>, id: Option<String>, name: Option<String>) -> AnyView {
    match (kind.as_deref(), id) {
        (Some("api_key"), Some(id)) => {
            let label = name.unwrap_or_else(|| id.clone());
            view! {
                <a href=format!("/keys/{id}") data-testid="audit-key-link">{label}</a>
                <div><code class="muted">{id}</code></div>
            }
            .into_any()
        }
        (Some("user"), Some(id)) => match name {
            Some(n) => view! { <span>{n}</span> }.into_any(),
            None => view! { <span class="muted">{format!("user {id}")}</span> }.into_any(),
        },
        (Some(kind), _) => view! { <span class="muted">{kind.to_owned()}</span> }.into_any(),
        (None, _) => view! { <span class="muted">"—"</span> }.into_any(),
    }
}
