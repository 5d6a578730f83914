//! The portal link's landing page: drawn on the server, with one island that posts the token.

use super::api::RedeemPortalLink;
use crate::components::browser::{location_hash, navigate_replace};
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn PortalPage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="portal">
                <h1>"Opening Latchkey"</h1>
                <PortalRedeem/>
            </div>
        </main>
    }
}

/// Posts the fragment's token once, then goes on to the link's page; says why when refused.
// An island in the `entry` bundle only (`islands-entry`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-entry", island)]
#[cfg_attr(not(feature = "islands-entry"), component)]
fn PortalRedeem() -> impl IntoView {
    let redeem = ServerAction::<RedeemPortalLink>::new();
    // Effects run only in the browser, once hydrated: the fragment is there and nowhere else.
    Effect::new(move |_| {
        redeem.dispatch(RedeemPortalLink {
            token: location_hash(),
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = redeem.value().get() {
            // Replacing, so Back never returns to the spent link.
            navigate_replace(&next);
        }
    });
    let refused = move || match redeem.value().get() {
        Some(Err(AppError::RateLimited { retry_after_secs })) => Some(format!(
            "Too many attempts from this address. Try again in {retry_after_secs} seconds."
        )),
        Some(Err(_)) => Some(
            "This sign-in link can't be used: each link works once, for a few minutes. Go back \
             to the app you came from and open it again."
                .to_owned(),
        ),
        _ => None,
    };
    move || match refused() {
        Some(why) => view! {
            <p class="notice notice-error" role="alert" data-testid="portal-refused">{why}</p>
        }
        .into_any(),
        None => view! { <p class="loading">"Signing you in…"</p> }.into_any(),
    }
}
