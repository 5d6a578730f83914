//! Latchkey's app: pages and components (rendered on the server, hydrated in the browser) and
//! the thin server functions behind them (guard → `store` call → DTO). Server-only parts sit
//! behind the `ssr` feature; storage lives in the `store` crate.
// Builds that do not erase component types (the bench harness, plain `cargo build`) nest the
// pages' view types deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod account;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod auth;
pub mod components;
pub mod members;
pub mod portal;
pub mod tenants;
pub mod webhooks;

/// The guard every server function starts with (server only).
#[cfg(feature = "ssr")]
pub mod guard;

/// The one error type, shared with storage and `/v1`; defined beside the domain so the browser
/// build gets it without any server code.
pub use latchkey_domain::error;

pub use app::{shell, App};
