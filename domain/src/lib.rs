//! Latchkey's domain rules, free of UI and storage so they can be tested hard and shared by the
//! server and the browser build; plus the one error type and the plain data shapes (`views`)
//! every layer passes around.

pub mod audit;
pub mod cidr;
pub mod error;
pub mod keys;
pub mod members;
pub mod policy;
pub mod scopes;
pub mod text;
pub mod time;
pub mod usage;
pub mod verify;
pub mod views;
pub mod webhooks;

pub use policy::{Action, Plan, PlanLimits, Role};
