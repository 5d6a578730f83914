//! Portal links: the SaaS backend mints a one-time link (`/portal#lkp_…`) for one of its users
//! in one tenant; redeeming it opens a session pinned to that tenant, capped at the member's
//! role (or at member when read-only), with the operator's own lifetime and idle window.

use std::time::Duration;

/// The operator's portal settings (`--portal-*`, `--product-name`).
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Origins a link's `return_url` may point into.
    pub return_origins: Vec<String>,
    /// Where an ended portal session sends the browser instead of the sign-in page.
    pub refresh_url: Option<String>,
    /// A portal session's lifetime and idle window.
    pub session_ttl: Duration,
    pub session_idle: Duration,
    /// The SaaS's name for "← Back to …".
    pub product_name: String,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            return_origins: Vec::new(),
            refresh_url: None,
            session_ttl: Duration::from_secs(3600),
            session_idle: Duration::from_secs(15 * 60),
            product_name: "the app".to_owned(),
        }
    }
}

mod links;
pub use links::{expire_sessions, mint, redeem, MintInput, Minted, Redeemed, Refusal};
