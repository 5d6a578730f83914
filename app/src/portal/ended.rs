//! On the sign-in page: a browser whose portal session ended goes back to the SaaS for a fresh
//! link (`--portal-refresh-url`) rather than being asked for a password it never had. Every
//! arrival at `/signin` is a full page load, which the server's middleware already sends there
//! before the page renders; this is the same check in the page, answered with a redirect too.

use super::api::portal_refresh_url;
use leptos::prelude::*;

/// Renders nothing; on the server, redirects an ended portal session (the route is async, so
/// the headers are still unsent).
#[component]
pub fn PortalEnded() -> impl IntoView {
    let target = Resource::new(|| (), |_| portal_refresh_url());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                if let Ok(Some(url)) = target.await {
                    #[cfg(feature = "ssr")]
                    leptos_axum::redirect(&url);
                    #[cfg(not(feature = "ssr"))]
                    let _ = url;
                }
            })}
        </Suspense>
    }
}
