//! How a failed server call is shown.

use crate::error::AppError;
use leptos::prelude::*;

/// An error from a server call, said plainly.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }
}
