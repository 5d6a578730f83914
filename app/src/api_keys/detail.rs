//! `/keys/:id`: the key's facts, its request log and its audit trail.

use crate::api_keys::api::*;
use crate::api_keys::request_log::RequestLog;
use crate::components::{
    mode_pill, scope_badges, silent, status_pill, DataTable, Loaded, PageTenant,
};
use latchkey_domain::time::{format_date, format_ms};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `/keys/:id`: every field, the request log (owner, admin, member) and the audit trail
/// (owner, admin). Each part is its own server call, so a member's page still shows the log.
#[component]
pub fn KeyDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let tenant = PageTenant::from_context();
    let detail = Resource::new(id, move |id| async move {
        get_key(tenant.get().await?, id).await
    });
    // Keyset paging through the log: `before` for this page, the ones we came through to go back.
    let before = RwSignal::new(None::<i64>);
    let history = RwSignal::new(Vec::<Option<i64>>::new());
    let requests = Resource::new(
        move || (id(), before.get()),
        move |(id, before)| async move { key_requests(tenant.get().await?, id, before).await },
    );
    view! {
        <p><a href="/keys">"← API Keys"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=detail let:d>
                <KeyFacts detail=d/>
            </Loaded>
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading requests…"</p> }>
            // Refusals are already explained by the key's own section above.
            <Loaded resource=requests on_error=silent let:page>
                <RequestLog page=page before=before history=history/>
            </Loaded>
        </Transition>
        <Suspense fallback=|| ()>
            // No trail for roles that may not read the audit log; errors show in the facts above.
            <Loaded resource=detail on_error=silent let:d>
                {d.audit.map(|rows| view! { <AuditTrail rows=rows/> })}
            </Loaded>
        </Suspense>
    }
}

#[component]
fn KeyFacts(detail: KeyDetail) -> impl IntoView {
    let k = detail.key;
    view! {
        <div class="page-header">
            <div>
                <h1 data-testid="detail-name">{k.name.clone()}</h1>
                {(!k.description.is_empty())
                    .then(|| view! { <p class="muted">{k.description.clone()}</p> })}
            </div>
            <div>{status_pill(k.status)}</div>
        </div>
        <div class="card">
            <dl class="facts">
                <dt>"Key ID"</dt>
                <dd><code data-testid="detail-id">{k.id.clone()}</code></dd>
                <dt>"Key"</dt>
                <dd><code data-testid="detail-masked">{k.masked.clone()}</code></dd>
                <dt>"Mode"</dt>
                <dd>{mode_pill(k.mode)}</dd>
                <dt>"Scopes"</dt>
                <dd>{scope_badges(k.scopes.clone())}</dd>
                <dt>"IP allowlist"</dt>
                <dd data-testid="detail-allowlist">
                    {if k.allowlist.is_empty() {
                        "Any address".to_owned()
                    } else {
                        k.allowlist.join(", ")
                    }}
                </dd>
                <dt>"Expires"</dt>
                <dd>{k.expires_at.map(format_date).unwrap_or_else(|| "Never".into())}</dd>
                <dt>"Created"</dt>
                <dd>{format!("{} by {}", format_ms(k.created_at), k.created_by)}</dd>
                <dt>"Last used"</dt>
                <dd>{k.last_used_at.map(format_ms).unwrap_or_else(|| "Never".into())}</dd>
                {k
                    .revoked_at
                    .map(|at| {
                        view! {
                            <dt>"Revoked"</dt>
                            <dd>
                                {format!(
                                    "{} by {}{}",
                                    format_ms(at),
                                    k.revoked_by.clone().unwrap_or_default(),
                                    k.revoke_reason
                                        .clone()
                                        .map(|r| format!(": {r}"))
                                        .unwrap_or_default(),
                                )}
                            </dd>
                        }
                    })}
            </dl>
        </div>
    }
}

#[component]
fn AuditTrail(rows: Vec<AuditRow>) -> impl IntoView {
    view! {
        <section class="card" data-testid="audit-trail">
            <h2>"Audit trail"</h2>
            <DataTable headers=&["When", "Who", "What", "Details"]>
                        {rows
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <tr>
                                        <td>{format_ms(r.at)}</td>
                                        <td>{r.actor}</td>
                                        <td><code>{r.action}</code></td>
                                        <td><code class="mono">{r.details}</code></td>
                                    </tr>
                                }
                            })
                            .collect_view()}
            </DataTable>
        </section>
    }
}
