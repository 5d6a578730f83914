//! Latchkey's app: pages and components (rendered on the server, hydrated in the browser) and
//! the server functions behind them. Server-only parts sit behind the `ssr` feature.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod error;
pub mod members;
pub mod tenants;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod verify;

pub use ui::{shell, App};
