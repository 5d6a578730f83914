//! The list page, drawn by the server from the URL (`/keys?q=…&status=…&before=…`): filters,
//! rows and paging; the buttons that change keys are islands.

use crate::api_keys::api::*;
use crate::api_keys::gates::get_key_gates;
use crate::api_keys::key_row::KeyRow;
use crate::api_keys::list_filters::KeyFilters;
use crate::api_keys::list_state::ListQuery;
use crate::api_keys::paging::PageLinks;
use crate::api_keys::requirements::{GatesResource, NewKey, PendingRequirements};
use crate::components::{
    gate, posted_error, posted_form_error, silent, DataTable, Loaded, PageHeader, PageTenant,
    Ready, SessionResource, TenantIdCopy, UpgradeCard,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The list page. The server decides what the caller may see: a Starter tenant gets the upgrade
/// card, a viewer is told they have no access (the same answers a direct call gets).
#[component]
pub fn KeysPage() -> impl IntoView {
    let list = use_query_map().with_untracked(|q| ListQuery::parse(|name| q.get(name)));
    let list = StoredValue::new(list);
    let tenant = PageTenant::from_context();
    let page = Resource::new(
        || (),
        move |_| {
            let list = list.get_value();
            async move {
                let tenant = tenant.get().await?;
                let page = list_keys(
                    tenant,
                    list.search,
                    list.include_revoked,
                    list.status,
                    list.paging.before,
                )
                .await?;
                Ok((tenant, page))
            }
        },
    );
    let gates: GatesResource = Resource::new(
        || (),
        move |_| async move { get_key_gates(tenant.get().await?).await },
    );
    view! {
        // A refused Disable / Enable (a plain form) lands back here.
        {posted_form_error(&posted_error::<SetKeyEnabled>())}
        <Transition fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
            <Loaded resource=page on_error=gate let:p>
                <KeysList tenant=p.0 page=p.1 gates=gates list=list.get_value()/>
            </Loaded>
        </Transition>
    }
}

/// The page once a list has loaded. A suspended (Starter) tenant sees the upgrade card, and
/// below it the keys it kept (to revoke them) when there are any.
#[component]
fn KeysList(tenant: i64, page: KeyPage, gates: GatesResource, list: ListQuery) -> AnyView {
    if page.suspended && page.keys.is_empty() {
        return view! { <UpgradeCard/> }.into_any();
    }
    let session = expect_context::<SessionResource>();
    let KeyPage {
        keys,
        next_before,
        can_manage,
        can_revoke,
        suspended,
        active_count,
        active_limit,
        catalogue,
        requests_24h,
        now_ms,
    } = page;
    let empty = keys.is_empty();
    let newer = list.paging.newer().map(|p| list.at(p).href());
    let older = next_before.map(|next| list.at(list.paging.older(next)).href());
    let new_key_catalogue = catalogue.clone();
    let catalogue = std::sync::Arc::new(catalogue);
    let rows = keys
        .into_iter()
        .map(|k| {
            let requests = requests_24h.get(&k.id).copied().unwrap_or(0);
            view! {
                <KeyRow
                    tenant=tenant
                    key=k
                    can_manage=can_manage
                    can_revoke=can_revoke
                    now_ms=now_ms
                    requests=requests
                    catalogue=catalogue.clone()
                />
            }
        })
        .collect_view();
    let header = (!suspended).then(|| {
        view! {
            <PageHeader
                title="API Keys"
                description="Keys let your services call the API; each is scoped, and its secret is shown once."
            >
                // The session has loaded before the list can: this only reads it.
                <Suspense>
                    <Loaded resource=session on_error=silent let:signed_in>
                        {signed_in
                            .map(|s| {
                                view! {
                                    <TenantIdCopy
                                        public_id=s.tenant_public_id
                                        external_id=s.tenant_external_id
                                    />
                                }
                            })}
                    </Loaded>
                </Suspense>
                {can_manage
                    .then(|| view! { <NewKey gates=gates tenant=tenant catalogue=new_key_catalogue/> })}
            </PageHeader>
            {can_manage.then(|| view! { <PendingRequirements gates=gates/> })}
        }
    });
    view! {
        {suspended.then(|| view! { <UpgradeCard/> })}
        {header}
        <p class="muted" data-testid="key-usage">
            {format!("{active_count} of {active_limit} active keys used")}
        </p>
        <KeyFilters
            search=list.search.clone()
            include_revoked=list.include_revoked
            status=list.status
        />
        <DataTable
            class="keys-table"
            headers=&[
                "Name",
                "Key",
                "Mode",
                "Scopes",
                "Created",
                "Last used",
                "Requests (24 h)",
                "Created by",
                "Status",
            ]
            actions=true
            testid="keys-table"
            empty=empty.then_some(("no-keys", "No keys match."))
        >
            {rows}
        </DataTable>
        <PageLinks newer=newer older=older newer_testid="page-newer" older_testid="page-older"/>
        // After the list's islands: it says they have all come to life.
        <Ready testid="keys-ready"/>
    }
    .into_any()
}
