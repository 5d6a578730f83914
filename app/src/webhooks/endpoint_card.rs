//! One endpoint: its address and events, its buttons (an island), and its delivery log (the
//! last 100 attempts: time, event, answer, latency, next retry), drawn on the server.

use super::api::{AttemptView, EndpointView};
use super::endpoint_actions::EndpointActions;
use super::endpoint_dialog::EndpointEdit;
use crate::components::{DataTable, When};
use leptos::prelude::*;

#[component]
pub fn EndpointCard(e: EndpointView, now: i64, tenant: i64) -> impl IntoView {
    let heading_id = format!("endpoint-{}", e.id);
    let labelled_by = heading_id.clone();
    let edit = EndpointEdit {
        id: e.id.clone(),
        url: e.url.clone(),
        description: e.description.clone(),
        events: e.events.clone(),
    };
    let attempts = e.attempts;
    view! {
        <section class="card" aria-labelledby=labelled_by data-testid="endpoint">
            <h2 class="section-title" id=heading_id><code>{e.url.clone()}</code></h2>
            {(!e.description.is_empty()).then(|| view! { <p>{e.description.clone()}</p> })}
            <p class="muted">"Sends: " {e.events.join(", ")}</p>
            {e.previous_secret_until.map(|until| view! {
                <p class="muted">"The previous signing secret also signs until " <When at=until now=now/> "."</p>
            })}
            <EndpointActions tenant=tenant endpoint=edit/>
            <h3>"Delivery log"</h3>
            <DataTable
                headers=&["Time", "Event", "Result", "Latency", "Next retry"]
                testid="delivery-log"
                empty=attempts.is_empty().then_some(("no-attempts", "Nothing sent yet."))
            >
                {attempts.into_iter().map(|a| view! { <AttemptRow a=a now=now/> }).collect_view()}
            </DataTable>
        </section>
    }
}

#[component]
fn AttemptRow(a: AttemptView, now: i64) -> impl IntoView {
    let result = match (a.status_code, &a.error) {
        (Some(code), _) if a.delivered() => format!("Delivered ({code})"),
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(why)) => why.clone(),
        (None, None) => "No answer".to_owned(),
    };
    let class = if a.delivered() {
        "pill pill-ok"
    } else {
        "pill pill-danger"
    };
    let next = match (a.next_retry_at, a.delivered()) {
        (Some(at), _) => view! { <When at=at now=now/> }.into_any(),
        (None, true) => view! { <span class="muted">"—"</span> }.into_any(),
        (None, false) => view! { <span>"Gave up"</span> }.into_any(),
    };
    view! {
        <tr data-testid="attempt-row">
            <td><When at=a.at now=now/></td>
            <td><code>{a.event_type.clone()}</code></td>
            <td><span class=class>{result}</span></td>
            <td>{format!("{} ms", a.latency_ms)}</td>
            <td>{next}</td>
        </tr>
    }
}
