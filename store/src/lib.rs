//! Latchkey's storage and services, beneath the pages and the `/v1` handlers: the pool and its
//! engine differences, every SQL query, the key verifier with its caches and limiters, the
//! usage writer, audit writing, the pepper, sessions and passwords. Depends on `domain`, never
//! on the UI; the browser build compiles none of it.

pub mod audit;
pub mod auth;
pub mod db;
pub mod demo;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod members;
pub mod operator;
pub mod pepper;
pub mod portal;
pub mod request;
pub mod state;
pub mod tenants;
pub mod throttle;
pub mod verify;
pub mod webhooks;

pub use latchkey_domain::error::{AppError, AppResult, FieldError};
pub use state::{AppState, Settings};
