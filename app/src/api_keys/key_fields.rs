//! The name, description and IP allowlist inputs that the create and edit dialogs share.

use leptos::prelude::*;

/// The three text inputs, each followed by the slot for its refusal. Element ids are
/// `{prefix}-name`, `{prefix}-description` and `{prefix}-allowlist`; the form posts them as
/// `{group}[name]` and so on (the server function's `new` or `edit`). `children` (the create
/// dialog's mode and scopes) go between the description and the allowlist.
#[component]
pub fn KeyTextFields(
    prefix: &'static str,
    group: &'static str,
    #[prop(optional, into)] name: String,
    #[prop(optional, into)] description: String,
    #[prop(optional, into)] allowlist: String,
    /// Marks the name input `required` (the create form's does, the edit form's never did).
    #[prop(optional)]
    name_required: bool,
    /// The create form explains the allowlist's format in the empty box; the edit form shows data.
    #[prop(optional)]
    allowlist_placeholder: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-{field}");
    let field = move |f: &str| format!("{group}[{f}]");
    view! {
        <label for=id("name")>"Name"</label>
        <input
            id=id("name")
            name=field("name")
            type="text"
            maxlength="100"
            required=name_required
            value=name
        />
        <div data-error-for="name"></div>
        <label for=id("description")>"Description"</label>
        <input id=id("description") name=field("description") type="text" value=description/>
        <div data-error-for="description"></div>
        {children.map(|c| c())}
        <label for=id("allowlist")>"IP allowlist"</label>
        <textarea id=id("allowlist") name=field("allowlist") placeholder=allowlist_placeholder>
            {allowlist}
        </textarea>
        <div data-error-for="allowlist"></div>
    }
}
