//! Plain HTML forms that post straight to a server function: what needs no island ships no code.
//!
//! server_fn answers such a post (its `Accept` names `text/html`) with a redirect: where the
//! function sent it (`leptos_axum::redirect`), or back to the form's page with the error in the
//! query (`__path`, `__err`). That page is drawn on the server and shows the error here.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The error the last post of this page's form to `F` came back with, if any.
///
/// Shown only when the page was reached from this site (`Sec-Fetch-Site: same-origin`, as after
/// our own redirect): a link from elsewhere carrying `__err` could otherwise put any words on a
/// Latchkey page.
pub fn posted_error<F: ServerFn>() -> Option<AppError> {
    #[cfg(feature = "ssr")]
    {
        use leptos::server_fn::error::ServerFnUrlError;
        use leptos_router::hooks::use_query_map;
        if !crate::guard::arrived_from_this_site() {
            return None;
        }
        let query = use_query_map();
        let (path, err) = query.with_untracked(|q| (q.get("__path"), q.get("__err")));
        if path.as_deref() != Some(F::PATH) {
            return None;
        }
        err.map(|e| ServerFnUrlError::<AppError>::decode_err(&e))
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// The message `error` has for `field`, if any, shown beside the field.
pub fn posted_field_error(error: &Option<AppError>, field: &'static str) -> impl IntoView {
    error
        .as_ref()
        .and_then(|e| e.field_message(field))
        .map(|m| super::form_errors::field_message(field, m))
}

/// An error that names no field (a conflict, a refusal), on top of the form.
pub fn posted_form_error(error: &Option<AppError>) -> impl IntoView {
    error
        .as_ref()
        .filter(|e| !matches!(e, AppError::Validation(_)))
        .cloned()
        .map(|e| view! { <super::ErrorNotice error=e/> })
}
