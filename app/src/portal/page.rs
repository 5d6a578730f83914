//! The portal link's landing page, drawn on the server: the page script
//! ([`Enhancer`](crate::components::enhance)) posts the fragment's token once, then goes on to
//! the link's page in place of this one (Back never returns to the spent link), or says why not.

use super::api::RedeemPortalLink;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn PortalPage() -> impl IntoView {
    view! {
        <main class="signin">
            <div class="card signin-card" data-testid="portal">
                <h1>"Opening Latchkey"</h1>
                <form method="post" action=RedeemPortalLink::PATH data-enhance data-autosubmit data-then="replace">
                    <input type="hidden" name="token" data-from-hash/>
                    <div
                        data-form-error
                        data-message-testid="portal-refused"
                        data-refused="This sign-in link can't be used: each link works once, for a few minutes. Go back to the app you came from and open it again."
                    ></div>
                    <p class="loading" data-while-pending>"Signing you in…"</p>
                </form>
            </div>
        </main>
    }
}
