//! `/keys/:id`: the key's facts, its request log and its audit trail.

use crate::api_keys::api::*;
use crate::api_keys::dialog::Dialog;
use crate::api_keys::lifecycle::{notice_on_toggle, rollable, toggleable, ToggleEnabled};
use crate::api_keys::request_log::RequestLog;
use crate::api_keys::roll_dialog::RollKeyDialog;
use crate::api_keys::usage_chart::UsageChart;
use crate::components::{
    form_error, key_state, mode_pill, scope_badges, silent, DataTable, Loaded, PageTenant, Ready,
    When,
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
    let roll = ServerAction::<RollKey>::new();
    let toggle = ServerAction::<SetKeyEnabled>::new();
    let dialog = RwSignal::new(Dialog::Closed);
    let notice = RwSignal::new(None::<String>);
    notice_on_toggle(toggle, notice);
    let detail = Resource::new(
        move || (id(), roll.version().get() + toggle.version().get()),
        move |(id, _)| async move { get_key(tenant.get().await?, id).await },
    );
    // Keyset paging through the log: `before` for this page, the ones we came through to go back.
    let before = RwSignal::new(None::<i64>);
    let history = RwSignal::new(Vec::<Option<i64>>::new());
    // Another key (a lineage link) starts at its own newest page.
    Effect::new(move |previous: Option<String>| {
        let id = id();
        if previous.is_some_and(|p| p != id) {
            before.set(None);
            history.set(Vec::new());
        }
        id
    });
    let requests = Resource::new(
        move || (id(), before.get()),
        move |(id, before)| async move { key_requests(tenant.get().await?, id, before).await },
    );
    view! {
        <p><a href="/keys">"← API Keys"</a></p>
        {move || {
            notice
                .get()
                .map(|n| view! { <p class="notice notice-ok" role="status" data-testid="notice">{n}</p> })
        }}
        {form_error(toggle)}
        // A transition, so a roll or disable redraws the facts in place instead of "Loading…".
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=detail let:d>
                {
                    let usage = d.usage.clone();
                    // Erased: without it the type of this page outgrows the compiler's
                    // recursion limit in builds that do not erase components (the bench).
                    view! {
                        <KeyFacts detail=d dialog=dialog toggle=toggle/>
                        <UsageChart usage=usage/>
                    }
                        .into_any()
                }
            </Loaded>
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading requests…"</p> }>
            // Refusals are already explained by the key's own section above.
            <Loaded resource=requests on_error=silent let:page>
                <RequestLog page=page before=before history=history/>
            </Loaded>
        </Transition>
        <Transition fallback=|| ()>
            // No trail for roles that may not read the audit log; errors show in the facts above.
            <Loaded resource=detail on_error=silent let:d>
                {
                    let now = d.now_ms;
                    d.audit.map(|rows| view! { <AuditTrail rows=rows now=now/> })
                }
            </Loaded>
        </Transition>
        // Outside the facts, which reload after the roll: a rebuilt dialog would lose the secret.
        <RollKeyDialog dialog=dialog action=roll notice=notice/>
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

/// A link to another key of the same lineage (`/keys/<id>`), routed in the page.
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
fn KeyFacts(
    detail: KeyDetail,
    dialog: RwSignal<Dialog>,
    toggle: ServerAction<SetKeyEnabled>,
) -> AnyView {
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
    let roll_target = k.clone();
    let leak = k
        .leaked_at
        .map(|at| leak_banner(at, k.leak_url.clone(), now_ms));
    view! {
        <Ready testid="detail-ready"/>
        {leak}
        <div class="page-header">
            <div>
                <h1 data-testid="detail-name">{k.name.clone()}</h1>
                {(!k.description.is_empty())
                    .then(|| view! { <p class="muted">{k.description.clone()}</p> })}
            </div>
            <div class="detail-side">
                <div class="state-cell">{key_state(&k, now_ms)}</div>
                <div class="page-actions">
                    {can_roll
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn"
                                    data-testid="roll-key"
                                    on:click=move |_| dialog.set(Dialog::Roll(roll_target.clone()))
                                >
                                    "Roll"
                                </button>
                            }
                        })}
                    {can_toggle.then(|| view! { <ToggleEnabled key=k.clone() action=toggle class="btn"/> })}
                </div>
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
