//! `/keys/:id`: the key's facts, its request log and its audit trail.

use crate::api_keys::api::*;
use crate::api_keys::detail_actions::KeyDetailActions;
use crate::api_keys::lifecycle::{rollable, toggleable};
use crate::api_keys::paging::Paging;
use crate::api_keys::request_log::RequestLog;
use crate::api_keys::usage_chart::{Range, UsageChart};
use crate::components::{
    key_state, mode_pill, posted_error, posted_form_error, scope_badges, silent, DataTable, Loaded,
    PageTenant, Ready, When,
};
use latchkey_domain::time::{format_date, format_ms};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/keys/:id`: every field, the request log (owner, admin, member) and the audit trail
/// (owner, admin). Each part is its own server call, so a member's page still shows the log.
/// The log's page is in the URL (`?before=…&trail=…`).
#[component]
pub fn KeyDetailPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    let paging = use_query_map()
        .with_untracked(|q| Paging::parse(q.get("before").as_deref(), q.get("trail").as_deref()));
    let range = use_query_map().with_untracked(|q| Range::parse(q.get("range").as_deref()));
    let tenant = PageTenant::from_context();
    let detail = Resource::new(|| (), {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            async move {
                let tenant = tenant.get().await?;
                Ok((tenant, get_key(tenant, id).await?))
            }
        }
    });
    let requests = Resource::new(|| (), {
        let id = id.clone();
        let before = paging.before;
        move |_| {
            let id = id.clone();
            async move { key_requests(tenant.get().await?, id, before).await }
        }
    });
    let log_place = StoredValue::new((id, paging));
    view! {
        <p><a href="/keys">"← API Keys"</a></p>
        // A refused Disable / Enable (a plain form) lands back here.
        {posted_form_error(&posted_error::<SetKeyEnabled>())}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=detail let:d>
                {
                    let (tenant, d) = d;
                    let usage = d.usage.clone();
                    // Erased: without it the type of this page outgrows the compiler's
                    // recursion limit in builds that do not erase components (the bench).
                    view! {
                        <KeyFacts tenant=tenant detail=d/>
                        <UsageChart usage=usage range=range/>
                        // After the facts' islands: they have come to life.
                        <Ready testid="detail-ready"/>
                    }
                        .into_any()
                }
            </Loaded>
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading requests…"</p> }>
            // Refusals are already explained by the key's own section above.
            <Loaded resource=requests on_error=silent let:page>
                {
                    let (id, paging) = log_place.get_value();
                    view! { <RequestLog page=page id=id paging=paging/> }
                }
            </Loaded>
        </Transition>
        <Transition fallback=|| ()>
            // No trail for roles that may not read the audit log; errors show in the facts above.
            <Loaded resource=detail on_error=silent let:d>
                {
                    let now = d.1.now_ms;
                    d.1.audit.map(|rows| view! { <AuditTrail rows=rows now=now/> })
                }
            </Loaded>
        </Transition>
    }
}

/// The red word that a leak report named this key, and where it was found.
fn leak_banner(at: i64, url: Option<String>, now: i64) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert" data-testid="leak-banner">
            <strong>"Leaked"</strong>
            {match url {
                // Only http(s) addresses are kept (checked when the report came in).
                Some(u) => view! {
                    " — reported at "
                    <a href=u.clone() rel="noopener noreferrer nofollow" target="_blank">{u.clone()}</a>
                }
                .into_any(),
                None => view! { " — reported" }.into_any(),
            }}
            " " <When at=at now=now/> ". Requests with this key are refused; issue a new key."
        </div>
    }
}

/// A link to another key of the same lineage (`/keys/<id>`).
fn key_link(label: &'static str, id: String, testid: &'static str) -> impl IntoView {
    view! {
        <p class="lineage" data-testid=testid>
            {label}
            " "
            <a href=format!("/keys/{id}")>
                <code>{id.clone()}</code>
            </a>
        </p>
    }
}

#[component]
fn KeyFacts(tenant: i64, detail: KeyDetail) -> AnyView {
    let now_ms = detail.now_ms;
    let k = detail.key;
    let can_roll = detail.can_manage && rollable(&k);
    let can_toggle = detail.can_manage && toggleable(&k);
    // A rolled key stops at the end of its overlap, a time of day; a chosen expiry ends a day.
    let expires = match (k.expires_at, k.rolled_to.is_some()) {
        (Some(at), true) => format_ms(at),
        (Some(at), false) => format_date(at),
        (None, _) => "Never".into(),
    };
    // The buttons' island only where there is a button.
    let actions =
        (can_roll || can_toggle).then(|| view! { <KeyDetailActions tenant=tenant key=k.clone()/> });
    let leak = k
        .leaked_at
        .map(|at| leak_banner(at, k.leak_url.clone(), now_ms));
    view! {
        {leak}
        <div class="page-header">
            <div>
                <h1 data-testid="detail-name">{k.name.clone()}</h1>
                {(!k.description.is_empty())
                    .then(|| view! { <p class="muted">{k.description.clone()}</p> })}
            </div>
            <div class="detail-side">
                <div class="state-cell">{key_state(&k, now_ms)}</div>
                {actions}
            </div>
        </div>
        {k.rolled_to.clone().map(|to| key_link("Replaced by", to, "replaced-by"))}
        {k.rolled_from.clone().map(|from| key_link("Replaces", from, "replaces"))}
        <div class="card" data-testid="detail-facts">
            <dl class="facts">
                <dt>"Key ID"</dt>
                <dd><code data-testid="detail-id">{k.id.clone()}</code></dd>
                <dt>"Key"</dt>
                <dd><code data-testid="detail-masked">{k.masked.clone()}</code></dd>
                <dt>"Mode"</dt>
                <dd>{mode_pill(k.mode)}</dd>
                <dt>"Scopes"</dt>
                <dd>{scope_badges(k.scopes.clone(), &detail.catalogue)}</dd>
                <dt>"IP allowlist"</dt>
                <dd data-testid="detail-allowlist">
                    {if k.allowlist.is_empty() {
                        "Any address".to_owned()
                    } else {
                        k.allowlist.join(", ")
                    }}
                </dd>
                <dt>"Expires"</dt>
                <dd data-testid="detail-expires">{expires}</dd>
                <dt>"Created"</dt>
                <dd>
                    <When at=k.created_at now=now_ms/>
                    {format!(" by {}", k.created_by)}
                </dd>
                <dt>"Last used"</dt>
                <dd data-testid="detail-last-used">
                    {match k.last_used_at {
                        Some(at) => view! { <When at=at now=now_ms/> }.into_any(),
                        None => "Never".into_any(),
                    }}
                </dd>
                {k
                    .disabled_at
                    .map(|at| {
                        view! {
                            <dt>"Disabled"</dt>
                            <dd>"since " <When at=at now=now_ms/></dd>
                        }
                    })}
                {k
                    .revoked_at
                    .map(|at| {
                        view! {
                            <dt>"Revoked"</dt>
                            <dd>
                                <When at=at now=now_ms/>
                                {format!(
                                    " by {}{}",
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
    .into_any()
}

#[component]
fn AuditTrail(rows: Vec<AuditRow>, now: i64) -> impl IntoView {
    view! {
        <section class="card" data-testid="audit-trail">
            <h2>"Audit trail"</h2>
            <DataTable headers=&["When", "Who", "What", "Details"]>
                        {rows
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <tr>
                                        <td><When at=r.at now=now/></td>
                                        <td>{r.actor}</td>
                                        <td><code>{r.action}</code></td>
                                        <td class="audit-details">{r.details}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
            </DataTable>
        </section>
    }
}
