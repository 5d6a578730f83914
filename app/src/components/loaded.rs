//! One way to show a server resource's result, so pages don't each hand-write the error arms.

use super::error_notice::ErrorNotice;
use crate::error::AppError;
use leptos::prelude::*;
use std::sync::Arc;

/// A page's own view of some errors (e.g. [`gate`](super::gate)); `None` leaves the error to the
/// usual [`ErrorNotice`].
pub type ErrorView = Callback<AppError, Option<AnyView>>;

/// Once `resource` has loaded, renders `Ok` through `children` and every `Err` as an
/// [`ErrorNotice`], unless `on_error` gives a view of its own.
///
/// It is only the inside of a `Suspense` or `Transition`, which the page keeps: the choice of
/// boundary and its fallback shape the server-rendered HTML, which the browser must match.
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    children: F,
    #[prop(optional, into)] on_error: Option<ErrorView>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    move || {
        let children = Arc::clone(&children);
        Suspend::new(async move {
            match resource.await {
                Ok(t) => children(t).into_any(),
                Err(e) => on_error
                    .and_then(|view_of| view_of.run(e.clone()))
                    .unwrap_or_else(|| view! { <ErrorNotice error=e/> }.into_any()),
            }
        })
    }
}

/// An `on_error` for a part that shows nothing when its call fails, because another part of the
/// page already says why.
pub fn silent(_: AppError) -> Option<AnyView> {
    Some(().into_any())
}
