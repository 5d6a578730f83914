//! The filter form: a plain `GET` form to `/audit`, so the filter lives in the URL (bookmark,
//! share, reload). The shared `FilterForm` island applies a chosen action at once and keeps the
//! URL to the filters in use (`/audit?action=…`).

use super::api::AuditQuery;
use crate::components::{posted_field_error, FilterForm};
use crate::error::AppError;
use latchkey_domain::audit::AuditAction;
use leptos::prelude::*;

#[component]
pub fn AuditFilters(query: AuditQuery, errors: Option<AppError>) -> impl IntoView {
    let error = move |field: &'static str| posted_field_error(&errors, field);
    let chosen = query.action.clone();
    view! {
        <FilterForm>
        <form method="get" action="/audit" class="card audit-filters" data-testid="audit-filters">
            <div class="filter-grid">
                <div class="field">
                    <label for="audit-key">"Key (ID or name)"</label>
                    <input id="audit-key" name="key" type="text" value=query.key.clone()/>
                </div>
                <div class="field">
                    <label for="audit-actor">"Actor"</label>
                    <input
                        id="audit-actor"
                        name="actor"
                        type="text"
                        placeholder="owner@example.com"
                        value=query.actor.clone()
                    />
                </div>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action" data-apply="change">
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
                    <input id="audit-from" name="from" type="date" value=query.from.clone()/>
                    {error("from")}
                </div>
                <div class="field">
                    <label for="audit-to">"To (UTC)"</label>
                    <input id="audit-to" name="to" type="date" value=query.to.clone()/>
                    {error("to")}
                </div>
            </div>
            <div class="toolbar">
                <button type="submit" class="btn btn-primary">"Apply filters"</button>
                <a class="btn btn-ghost" href="/audit" rel="external">"Clear filters"</a>
            </div>
        </form>
        </FilterForm>
    }
}
