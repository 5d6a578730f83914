//! The filter form: a plain `GET` form to `/audit`, so the filter lives in the URL (bookmark,
//! share, reload) and works before the island wakes. Once it has, choosing an action applies at
//! once, and either way the URL names only the filters in use (`/audit?action=…`).

use super::api::AuditQuery;
use crate::components::browser::navigate_hard;
use crate::error::AppError;
use latchkey_domain::audit::AuditAction;
use leptos::html::Input;
use leptos::prelude::*;

#[island]
pub fn AuditFilters(query: AuditQuery, errors: Option<AppError>) -> impl IntoView {
    let error = move |field: &'static str| {
        errors.as_ref().and_then(|e| e.field_message(field)).map(|m| {
            view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{m}</p> }
        })
    };
    let (key, actor, from, to) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let action = NodeRef::<leptos::html::Select>::new();
    // Read from the fields themselves: what was typed before the island woke counts too.
    let apply = move || {
        let text = |r: NodeRef<Input>| r.get_untracked().map(|i| i.value()).unwrap_or_default();
        let wanted = AuditQuery {
            key: text(key),
            actor: text(actor),
            action: action
                .get_untracked()
                .map(|s| s.value())
                .unwrap_or_default(),
            from: text(from),
            to: text(to),
        };
        let query = wanted.to_query_string(&[]);
        navigate_hard(&if query.is_empty() {
            "/audit".to_owned()
        } else {
            format!("/audit?{query}")
        });
    };
    let chosen = query.action.clone();
    view! {
        <form
            method="get"
            action="/audit"
            class="card audit-filters"
            data-testid="audit-filters"
            on:submit=move |ev| {
                ev.prevent_default();
                apply();
            }
        >
            <div class="filter-grid">
                <div class="field">
                    <label for="audit-key">"Key (ID or name)"</label>
                    <input id="audit-key" name="key" type="text" node_ref=key value=query.key.clone()/>
                </div>
                <div class="field">
                    <label for="audit-actor">"Actor"</label>
                    <input
                        id="audit-actor"
                        name="actor"
                        type="text"
                        placeholder="owner@example.com"
                        node_ref=actor
                        value=query.actor.clone()
                    />
                </div>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action" node_ref=action on:change=move |_| apply()>
                        <option value="" selected=chosen.is_empty()>"Any action"</option>
                        {AuditAction::all()
                            .map(|a| {
                                let name = a.as_str();
                                view! {
                                    <option value=name title=a.describe() selected=chosen == name>
                                        {name}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    {error("action")}
                </div>
                <div class="field">
                    <label for="audit-from">"From (UTC)"</label>
                    <input id="audit-from" name="from" type="date" node_ref=from value=query.from.clone()/>
                    {error("from")}
                </div>
                <div class="field">
                    <label for="audit-to">"To (UTC)"</label>
                    <input id="audit-to" name="to" type="date" node_ref=to value=query.to.clone()/>
                    {error("to")}
                </div>
            </div>
            <div class="toolbar">
                <button type="submit" class="btn btn-primary">"Apply filters"</button>
                <a class="btn btn-ghost" href="/audit" rel="external">"Clear filters"</a>
            </div>
        </form>
    }
}
