//! `/audit`: the filters (from and into the URL query), one page of events, Newer / Older, and
//! the CSV export of the same filter.

use super::api::{list_audit, AuditPageView, AuditQuery};
use super::filters::AuditFilters;
use super::table::AuditTable;
use crate::components::{ErrorNotice, ErrorView, Loaded, NoAccessCard, PageHeader, PageTenant};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the URL asks for: the filter, and which page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    query: AuditQuery,
    before: Option<i64>,
    after: Option<i64>,
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let wanted = Memo::new(move |_| {
        let p = params.get();
        let text = |k: &str| p.get(k).unwrap_or_default();
        let id = |k: &str| p.get(k).and_then(|v| v.parse::<i64>().ok());
        Wanted {
            query: AuditQuery {
                key: text("key"),
                actor: text("actor"),
                action: text("action"),
                from: text("from"),
                to: text("to"),
            },
            before: id("before"),
            after: id("after"),
        }
    });
    let tenant = PageTenant::from_context();
    let page = Resource::new(
        move || wanted.get(),
        move |w| async move { list_audit(tenant.get().await?, w.query, w.before, w.after).await },
    );
    // A refused role gets its card; a filter that is not one keeps the form on screen, with the
    // field's message, to fix it.
    let on_error: ErrorView = Callback::new(move |e: AppError| match e {
        AppError::Validation(_) => Some(
            view! {
                <ErrorNotice error=e.clone()/>
                <AuditFilters query=wanted.get_untracked().query errors=Some(e)/>
            }
            .into_any(),
        ),
        AppError::Forbidden => Some(
            view! {
                <NoAccessCard
                    title="You don't have access to the audit log"
                    message="Only owners and admins can read this organisation's audit log."
                />
            }
            .into_any(),
        ),
        _ => None,
    });
    view! {
        <PageHeader
            title="Audit log"
            description="Every change to keys, plans and members, and every sign-in: who, when, from where."
        />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=page on_error=on_error let:p>
                <Events page=p query=wanted.get_untracked().query tenant=tenant.now()/>
            </Loaded>
        </Transition>
    }
}

#[component]
fn Events(page: AuditPageView, query: AuditQuery, tenant: i64) -> impl IntoView {
    let link = |cursor: Option<(&str, i64)>| {
        let extra: Vec<(&str, String)> = cursor
            .map(|(k, v)| (k, v.to_string()))
            .into_iter()
            .collect();
        format!("/audit?{}", query.to_query_string(&extra))
    };
    let newer = page.newer.map(|id| link(Some(("after", id))));
    let older = page.older.map(|id| link(Some(("before", id))));
    let export = format!(
        "/audit/export.csv?{}",
        query.to_query_string(&[("tenant", tenant.to_string())])
    );
    let filtered = !query.pairs().is_empty();
    view! {
        <AuditFilters query=query errors=None/>
        <div class="toolbar">
            <a class="btn" href=export download data-testid="audit-export" rel="external">
                "Export CSV"
            </a>
            <span class="muted">
                {if filtered { "Exports every event matching these filters." } else { "Exports every event." }}
            </span>
        </div>
        <AuditTable rows=page.rows now=page.now/>
        <nav class="pager" aria-label="Audit log pages">
            <PageLink href=newer label="Newer" testid="audit-newer"/>
            <PageLink href=older label="Older" testid="audit-older"/>
        </nav>
    }
}

/// A paging link, or the same label disabled when there is no such page.
#[component]
fn PageLink(href: Option<String>, label: &'static str, testid: &'static str) -> impl IntoView {
    match href {
        Some(h) => {
            view! { <a class="btn" href=h data-testid=testid rel="external">{label}</a> }.into_any()
        }
        None => view! {
            <span class="btn" aria-disabled="true" data-testid=testid>{label}</span>
        }
        .into_any(),
    }
}
