//! `/portal#lkp_…`: where a portal link minted by the SaaS backend lands. The token rides in
//! the fragment (no server log, no Referer sees it); the page posts it once hydrated, and the
//! browser goes on to the link's page signed in.

pub mod api;
mod ended;
mod page;

pub use ended::PortalEnded;
pub use page::PortalPage;
