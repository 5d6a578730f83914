//! "Limit to resources" in the create dialog: a key may be limited to chosen resources of one
//! type the operator declared ("Only these bank accounts"). Fixed once created, like scopes, so
//! the edit dialog has no such field.

use crate::api_keys::gates::ResourceGroup;
use leptos::prelude::*;

const PICKER: &str = "key-resources";

/// Nothing when no type has resources (no types declared, or none added for this tenant). Each
/// type's boxes are drawn; the type select shows one type's (`data-switch`, in the page
/// script), since a key is limited to resources of one type.
#[component]
pub fn ResourcePicker(groups: Vec<ResourceGroup>) -> impl IntoView {
    let first = groups.first().map(|g| g.kind.clone())?;
    let one_type = groups.len() == 1;
    Some(view! {
        <fieldset class="plain" data-testid="resource-picker" id=PICKER>
            <legend>"Limit to resources"</legend>
            // One type needs no choice of type.
            <label for="key-resource-type" hidden=one_type>"Resource type"</label>
            <select
                id="key-resource-type"
                name="new[resource_type]"
                hidden=one_type
                data-testid="resource-type"
                data-switch=PICKER
            >
                {groups
                    .iter()
                    .map(|g| view! { <option value=g.kind.clone() selected=g.kind == first>{g.label.clone()}</option> })
                    .collect_view()}
            </select>
            {groups
                .into_iter()
                .map(|g| {
                    let hidden = g.kind != first;
                    let case = g.kind.clone();
                    view! {
                        <div data-case=case hidden=hidden>
                            <ResourceChecklist group=g/>
                        </div>
                    }
                })
                .collect_view()}
            <div data-error-for="resources"></div>
        </fieldset>
    })
}

/// A checkbox per resource of one type, named "Operating (acct_1)".
#[component]
fn ResourceChecklist(group: ResourceGroup) -> impl IntoView {
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
                    view! {
                        <label>
                            <input type="checkbox" name="new[resources][]" value=r.id.clone() data-testid="resource-choice"/>
                            {format!("{} ({})", r.name, r.id)}
                        </label>
                    }
                })
                .collect_view()}
        </div>
        <p class="hint" data-testid="resource-hint">{hint}</p>
    }
}
