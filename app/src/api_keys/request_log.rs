//! A key's request log, newest first, a page at a time.

use crate::api_keys::api::RequestPage;
use crate::api_keys::paging::{href, PageLinks, Paging};
use crate::components::{DataTable, When};
use leptos::prelude::*;

fn latency_label(us: i64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

#[component]
pub fn RequestLog(
    page: RequestPage,
    /// The key's id: the pages are `/keys/<id>?before=…`.
    id: String,
    paging: Paging,
) -> impl IntoView {
    let path = format!("/keys/{id}");
    let newer = paging.newer().map(|p| href(&path, &p.params()));
    let older = page
        .next_before
        .map(|next| href(&path, &paging.older(next).params()));
    let now = page.now_ms;
    let empty = page.rows.is_empty();
    view! {
        <section class="card" data-testid="request-log">
            <h2>"Request log"</h2>
            <DataTable
                headers=&["When", "Request", "Status", "Client IP", "Latency"]
                empty=empty.then_some((
                    "no-requests",
                    "No requests yet. Calls made with this key will be listed here.",
                ))
            >
                        {page
                            .rows
                            .into_iter()
                            .map(|r| {
                                let class = if r.status < 400 { "pill pill-ok" } else { "pill pill-danger" };
                                view! {
                                    <tr data-testid="request-row" title=r.request_id.clone()>
                                        <td><When at=r.at now=now/></td>
                                        <td><code>{format!("{} {}", r.method, r.path)}</code></td>
                                        <td><span class=class data-testid="request-status">{r.status}</span></td>
                                        <td><code>{r.client_ip}</code></td>
                                        <td>{latency_label(r.latency_us)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
            </DataTable>
            <PageLinks
                newer=newer
                older=older
                newer_testid="requests-newer"
                older_testid="requests-older"
            />
        </section>
    }
}
