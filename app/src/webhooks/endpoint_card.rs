//! One endpoint: its address and events, its buttons, and its delivery log (the last 100
//! attempts: time, event, answer, latency, next retry).

use super::api::{AttemptView, EndpointView, RemoveWebhook, RollWebhookSecret, SendTestWebhook};
use super::endpoint_dialog::Editing;
use crate::components::{DataTable, PageTenant, When};
use leptos::prelude::*;

#[component]
pub fn EndpointCard(
    e: EndpointView,
    now: i64,
    editing: Editing,
    test: ServerAction<SendTestWebhook>,
    roll: ServerAction<RollWebhookSecret>,
    remove: ServerAction<RemoveWebhook>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let (id_test, id_roll, id_remove) = (e.id.clone(), e.id.clone(), e.id.clone());
    let url = e.url.clone();
    let for_edit = e.clone();
    let heading_id = format!("endpoint-{}", e.id);
    let attempts = e.attempts.clone();
    let confirming = RwSignal::new(false);
    let labelled_by = heading_id.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by data-testid="endpoint">
            <h2 class="section-title" id=heading_id><code>{e.url.clone()}</code></h2>
            {(!e.description.is_empty()).then(|| view! { <p>{e.description.clone()}</p> })}
            <p class="muted">"Sends: " {e.events.join(", ")}</p>
            {e.previous_secret_until.map(|until| view! {
                <p class="muted">"The previous signing secret also signs until " <When at=until now=now/> "."</p>
            })}
            <div class="toolbar">
                <button
                    type="button"
                    class="btn btn-small"
                    disabled=move || test.pending().get()
                    on:click=move |_| { test.dispatch(SendTestWebhook { tenant: tenant.now(), id: id_test.clone() }); }
                >
                    "Send test event"
                </button>
                <button type="button" class="btn btn-small" on:click=move |_| editing.set(Some(Some(for_edit.clone())))>
                    "Change"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=move |_| { roll.dispatch(RollWebhookSecret { tenant: tenant.now(), id: id_roll.clone() }); }
                >
                    "Roll secret"
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-danger"
                    aria-label=format!("Remove the endpoint {url}")
                    aria-expanded=move || confirming.get().to_string()
                    on:click=move |_| confirming.set(true)
                >
                    "Remove"
                </button>
            </div>
            // Removing drops its pending deliveries too: ask once, in place.
            {move || confirming.get().then(|| {
                let id = id_remove.clone();
                view! {
                    <div class="notice notice-error" role="group" aria-label="Confirm removal">
                        <p>"Remove this endpoint? Events not yet delivered to it are dropped."</p>
                        <div class="dialog-actions dialog-actions-start">
                            <button
                                type="button"
                                class="btn btn-danger"
                                on:click=move |_| {
                                    remove.dispatch(RemoveWebhook { tenant: tenant.now(), id: id.clone() });
                                }
                            >
                                "Remove endpoint"
                            </button>
                            <button type="button" class="btn" on:click=move |_| confirming.set(false)>"Keep it"</button>
                        </div>
                    </div>
                }
            })}
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
