//! A form's errors from its last submission: per field next to the field, the rest on top.

use super::error_notice::ErrorNotice;
use crate::error::AppError;
use leptos::prelude::*;

/// How a field's message shows beside it (tests find it as `error-<field>`).
pub fn field_message(field: &'static str, message: String) -> impl IntoView {
    view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{message}</p> }
}

/// The per-field message of the last failed submission, if any.
pub fn field_error<A>(
    action: ServerAction<A>,
    field: &'static str,
) -> impl Fn() -> Option<AnyView> + Send + Sync + Clone + 'static
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .with(|v| match v {
                Some(Err(e)) => e.field_message(field),
                _ => None,
            })
            .map(|m| field_message(field, m).into_any())
    }
}

/// Non-field errors of the last failed submission (plan limit, permissions, network).
pub fn form_error<A>(
    action: ServerAction<A>,
) -> impl Fn() -> Option<AnyView> + Send + Sync + Clone + 'static
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .with(|v| match v {
                Some(Err(AppError::Validation(_))) | None | Some(Ok(_)) => None,
                Some(Err(e)) => Some(e.clone()),
            })
            .map(|e| view! { <ErrorNotice error=e/> }.into_any())
    }
}
