//! "Limit to resources" in the create dialog: a key may be limited to chosen resources of one
//! type the operator declared ("Only these bank accounts"). Fixed once created, like scopes, so
//! the edit dialog has no such field.

use crate::api_keys::api::CreateKey;
use crate::api_keys::gates::ResourceGroup;
use crate::components::field_error;
use latchkey_domain::views::ResourceRef;
use leptos::prelude::*;

/// The picker's state: the type shown and the ids ticked (all of that type).
#[derive(Clone, Copy)]
pub struct ResourceChoiceState {
    pub kind: RwSignal<String>,
    pub chosen: RwSignal<Vec<String>>,
}

impl Default for ResourceChoiceState {
    fn default() -> Self {
        Self {
            kind: RwSignal::new(String::new()),
            chosen: RwSignal::new(Vec::new()),
        }
    }
}

impl ResourceChoiceState {
    /// Nothing ticked: the new key is not limited.
    pub fn reset(self) {
        self.kind.set(String::new());
        self.chosen.set(Vec::new());
    }

    /// What `NewKey.resources` gets: empty when nothing is ticked.
    pub fn refs(self) -> Vec<ResourceRef> {
        let kind = self.kind.get_untracked();
        self.chosen
            .get_untracked()
            .into_iter()
            .map(|id| ResourceRef {
                kind: kind.clone(),
                id,
            })
            .collect()
    }
}

/// Nothing when no type has resources (no types declared, or none added for this tenant).
/// Built when the dialog opens, like the scope list, from what the page last loaded.
#[component]
pub fn ResourcePicker(
    groups: Signal<Vec<ResourceGroup>>,
    state: ResourceChoiceState,
    action: ServerAction<CreateKey>,
) -> impl IntoView {
    let groups = groups.get_untracked();
    let first = groups.first().map(|g| g.kind.clone())?;
    if state
        .kind
        .with_untracked(|k| !groups.iter().any(|g| &g.kind == k))
    {
        state.kind.set(first);
    }
    let one_type = groups.len() == 1;
    let groups = StoredValue::new(groups);
    let shown = move || {
        let kind = state.kind.get();
        groups.with_value(|gs| gs.iter().find(|g| g.kind == kind).cloned())
    };
    Some(view! {
        <fieldset class="plain" data-testid="resource-picker">
            <legend>"Limit to resources"</legend>
            // One type needs no choice of type.
            <label for="key-resource-type" hidden=one_type>"Resource type"</label>
            <select
                id="key-resource-type"
                hidden=one_type
                data-testid="resource-type"
                on:change=move |ev| {
                    // A key is limited to resources of one type: another type starts afresh.
                    state.chosen.set(Vec::new());
                    state.kind.set(event_target_value(&ev));
                }
            >
                {groups
                    .get_value()
                    .into_iter()
                    .map(|g| {
                        let selected = state.kind.get_untracked() == g.kind;
                        view! { <option value=g.kind selected=selected>{g.label}</option> }
                    })
                    .collect_view()}
            </select>
            {move || shown().map(|g| view! { <ResourceChecklist group=g chosen=state.chosen/> })}
            {field_error(action, "resources")}
        </fieldset>
    })
}

/// A checkbox per resource of the shown type, named "Operating (acct_1)".
#[component]
fn ResourceChecklist(group: ResourceGroup, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    let hint = format!(
        "Only these: the key is refused for any other {}. None ticked: the key is not \
         limited. This cannot be changed once the key exists.",
        group.label.to_lowercase()
    );
    view! {
        <div class="scope-list">
            {group
                .resources
                .into_iter()
                .map(|r| {
                    let id = r.id.clone();
                    let id2 = r.id.clone();
                    view! {
                        <label>
                            <input
                                type="checkbox"
                                value=r.id.clone()
                                data-testid="resource-choice"
                                prop:checked=move || chosen.with(|v| v.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen
                                        .update(|v| {
                                            v.retain(|x| x != &id2);
                                            if on {
                                                v.push(id2.clone());
                                            }
                                        });
                                }
                            />
                            {format!("{} ({})", r.name, r.id)}
                        </label>
                    }
                })
                .collect_view()}
        </div>
        <p class="hint" data-testid="resource-hint">{hint}</p>
    }
}
