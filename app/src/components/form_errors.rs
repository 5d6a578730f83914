//! How a field's refusal shows beside it, for the plain forms drawn on the server (the page
//! script draws the same for the forms it posts).

use leptos::prelude::*;

/// How a field's message shows beside it (tests find it as `error-<field>`).
pub fn field_message(field: &'static str, message: String) -> impl IntoView {
    view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{message}</p> }
}
