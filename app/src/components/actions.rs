//! What happens after a server action.

use super::browser;
use crate::error::AppError;
use leptos::prelude::*;

/// After a successful action whose effect spans the whole app (session, tenant), load `to` afresh.
pub fn reload_on_success<A>(action: ServerAction<A>, to: &'static str)
where
    A: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            browser::navigate_hard(to);
        }
    });
}
