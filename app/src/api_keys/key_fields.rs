//! The name, description and IP allowlist inputs that the create and edit dialogs share.

use crate::components::field_error;
use crate::error::AppError;
use leptos::prelude::*;

/// The three text inputs, each followed by its error from `action`'s last submission. Element ids
/// are `{prefix}-name`, `{prefix}-description` and `{prefix}-allowlist`; `children` (the create
/// dialog's mode and scopes) go between the description and the allowlist.
#[component]
pub fn KeyTextFields<A>(
    prefix: &'static str,
    name: RwSignal<String>,
    description: RwSignal<String>,
    allowlist: RwSignal<String>,
    action: ServerAction<A>,
    /// Marks the name input `required` (the create form's does, the edit form's never did).
    #[prop(optional)]
    name_required: bool,
    /// The create form explains the allowlist's format in the empty box; the edit form shows data.
    #[prop(optional)]
    allowlist_placeholder: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    let id = move |field: &str| format!("{prefix}-{field}");
    view! {
        <label for=id("name")>"Name"</label>
        <input
            id=id("name")
            type="text"
            maxlength="100"
            required=name_required
            prop:value=move || name.get()
            on:input=move |ev| name.set(event_target_value(&ev))
        />
        {field_error(action, "name")}
        <label for=id("description")>"Description"</label>
        <input
            id=id("description")
            type="text"
            prop:value=move || description.get()
            on:input=move |ev| description.set(event_target_value(&ev))
        />
        {field_error(action, "description")}
        {children.map(|c| c())}
        <label for=id("allowlist")>"IP allowlist"</label>
        <textarea
            id=id("allowlist")
            placeholder=allowlist_placeholder
            prop:value=move || allowlist.get()
            on:input=move |ev| allowlist.set(event_target_value(&ev))
        ></textarea>
        {field_error(action, "allowlist")}
    }
}
