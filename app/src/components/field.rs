//! A labelled input bound to a signal, with an optional hint and the last submission's message
//! for its field: the shape every form here repeats.

use super::form_errors::field_error;
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn Field<A>(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    action: ServerAction<A>,
    /// The field's name in the server's validation errors.
    field: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type=kind
            autocomplete=autocomplete
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
        {hint.map(|h| view! { <p class="muted">{h}</p> })}
        {field_error(action, field)}
    }
}

/// What every new-password field says.
pub const PASSWORD_HINT: &str = "At least 12 characters; not your email, not a common password.";
