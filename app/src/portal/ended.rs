//! On the sign-in page: a browser whose portal session ended goes back to the SaaS for a fresh
//! link (`--portal-refresh-url`) rather than being asked for a password it never had. (A full
//! page load is sent there by the server before the page renders; this covers arriving here
//! from a page already open.)

use super::api::portal_refresh_url;
use crate::components::browser::navigate_replace;
use leptos::prelude::*;

#[component]
pub fn PortalEnded() -> impl IntoView {
    // Browser only: nothing to render or hydrate.
    let target = LocalResource::new(portal_refresh_url);
    Effect::new(move |_| {
        if let Some(Ok(Some(url))) = target.get() {
            navigate_replace(&url);
        }
    });
}
