//! The list page: search, paging, and the dialogs that change keys.

use crate::api_keys::api::*;
use crate::api_keys::create_dialog::CreateKeyDialog;
use crate::api_keys::dialog::Dialog;
use crate::api_keys::edit_dialog::EditKeyDialog;
use crate::api_keys::gates::get_key_gates;
use crate::api_keys::key_row::KeyRow;
use crate::api_keys::lifecycle::notice_on_toggle;
use crate::api_keys::list_state::ListState;
use crate::api_keys::requirements::{GatesResource, NewKeyButton, PendingRequirements};
use crate::api_keys::revoke_dialog::RevokeKeyDialog;
use crate::api_keys::roll_dialog::RollKeyDialog;
use crate::components::{
    form_error, gate, silent, DataTable, Loaded, PageHeader, PageTenant, Pager, Ready,
    SessionResource, TenantIdCopy, UpgradeCard,
};
use leptos::prelude::*;

/// The list page. The server decides what the caller may see: a Starter tenant gets the upgrade
/// card, a viewer is told they have no access (the same answers a direct call gets).
#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <KeysManager/> }
}

#[component]
fn KeysManager() -> impl IntoView {
    let list = ListState::from_url();
    let ListState {
        search,
        include_revoked,
        status,
        before,
        history,
    } = list;
    let create = ServerAction::<CreateKey>::new();
    let update = ServerAction::<UpdateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let roll = ServerAction::<RollKey>::new();
    let toggle = ServerAction::<SetKeyEnabled>::new();
    let dialog = RwSignal::new(Dialog::Closed);
    let notice = RwSignal::new(None::<String>);
    let tenant = PageTenant::from_context();
    let session = expect_context::<SessionResource>();
    notice_on_toggle(toggle, notice);

    let changes = move || {
        create.version().get()
            + update.version().get()
            + revoke.version().get()
            + roll.version().get()
            + toggle.version().get()
    };
    let page = Resource::new(
        move || {
            (
                search.get(),
                include_revoked.get(),
                status.get(),
                before.get(),
                changes(),
            )
        },
        move |(search, include_revoked, status, before, _)| async move {
            list_keys(tenant.get().await?, search, include_revoked, status, before).await
        },
    );
    // Requirements can change under the page (the operator's backend sets them); reading them
    // again after each change here is what a person acting on the page expects.
    let gates: GatesResource = Resource::new(changes, move |_| async move {
        get_key_gates(tenant.get().await?).await
    });
    let resource_groups = Signal::derive(move || {
        gates
            .get()
            .and_then(Result::ok)
            .map(|g| g.resource_groups)
            .unwrap_or_default()
    });
    let catalogue = Signal::derive(move || {
        page.get()
            .and_then(Result::ok)
            .map(|p| p.catalogue)
            .unwrap_or_default()
    });
    let reset_paging = move || list.reset_paging();

    // The page once a list has loaded; `gate` turns a plan or role refusal into its card.
    // A suspended (Starter) tenant sees the upgrade card, and below it the keys it kept (to
    // revoke them) when there are any.
    let loaded = move |p: KeyPage| {
        if p.suspended && p.keys.is_empty() {
            return view! { <UpgradeCard/> }.into_any();
        }
        let suspended = p.suspended;
        let can_manage = p.can_manage;
        let can_revoke = p.can_revoke;
        let next = p.next_before;
        let now_ms = p.now_ms;
        let empty = p.keys.is_empty();
        let requests = p.requests_24h;
        let scope_info = std::sync::Arc::new(p.catalogue);
        view! {
            {suspended.then(|| view! { <UpgradeCard/> })}
            {(!suspended).then(|| view! {
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
                    .then(|| view! { <NewKeyButton gates=gates create=create dialog=dialog/> })}
            </PageHeader>
            {can_manage.then(|| view! { <PendingRequirements gates=gates/> })}
            })}
            <Ready testid="keys-ready"/>
            <p class="muted" data-testid="key-usage">
                {format!("{} of {} active keys used", p.active_count, p.active_limit)}
            </p>
            {move || {
                notice
                    .get()
                    .map(|n| {
                        view! {
                            <p class="notice notice-ok" role="status" data-testid="notice">
                                {n}
                            </p>
                        }
                    })
            }}
            {form_error(toggle)}
            <div class="toolbar">
                <label class="sr-only" for="key-search">"Search keys by name"</label>
                <input
                    id="key-search"
                    type="search"
                    placeholder="Search by name"
                    data-testid="key-search"
                    prop:value=move || search.get()
                    on:input=move |ev| {
                        reset_paging();
                        search.set(event_target_value(&ev));
                    }
                />
                <label class="toggle">
                    <input
                        type="checkbox"
                        data-testid="include-revoked"
                        // A status filter says exactly which keys to show.
                        disabled=move || status.with(Option::is_some)
                        prop:checked=move || include_revoked.get()
                        on:change=move |ev| {
                            reset_paging();
                            include_revoked.set(event_target_checked(&ev));
                        }
                    />
                    " Include revoked"
                </label>
                <StatusFilter status=status on_change=Callback::new(move |_| reset_paging())/>
            </div>
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
                        {p
                            .keys
                            .into_iter()
                            .map(|k| {
                                let n = requests.get(&k.id).copied().unwrap_or(0);
                                view! {
                                    <KeyRow
                                        key=k
                                        can_manage=can_manage
                                        can_revoke=can_revoke
                                        dialog=dialog
                                        notice=notice
                                        toggle=toggle
                                        now_ms=now_ms
                                        requests=n
                                        catalogue=scope_info.clone()
                                    />
                                }
                            })
                            .collect_view()}
            </DataTable>
            <Pager before=before history=history next=next newer="page-newer" older="page-older"/>
        }
        .into_any()
    };

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
            <Loaded resource=page on_error=gate let:p>
                {loaded(p)}
            </Loaded>
        </Transition>
        // Outside the list, which reloads after every change: a dialog rebuilt by that reload
        // would lose its state (say, the confirmation before a new secret is dropped).
        <CreateKeyDialog
            dialog=dialog
            action=create
            catalogue=catalogue
            resource_groups=resource_groups
        />
        <EditKeyDialog dialog=dialog action=update catalogue=catalogue/>
        <RollKeyDialog dialog=dialog action=roll notice=notice/>
        <RevokeKeyDialog dialog=dialog action=revoke notice=notice/>
    }
}

/// The status select: "All" (no filter) or one [`KeyFilter`]. `on_change` runs before the filter
/// changes (to reset paging: a cursor from another filter means nothing here).
#[component]
fn StatusFilter(status: RwSignal<Option<KeyFilter>>, on_change: Callback<()>) -> impl IntoView {
    view! {
        <label class="toolbar-field">
            "Status"
            <select
                data-testid="status-filter"
                prop:value=move || status.get().map_or("", KeyFilter::as_str)
                on:change=move |ev| {
                    on_change.run(());
                    status.set(event_target_value(&ev).parse().ok());
                }
            >
                <option value="">"All"</option>
                {KeyFilter::ALL
                    .into_iter()
                    .map(|f| {
                        // `selected` too: the select is rebuilt with each list, and a value
                        // set before its options exist would fall back to "All".
                        view! {
                            <option value=f.as_str() selected=move || status.get() == Some(f)>
                                {f.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
