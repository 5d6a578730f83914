//! Latchkey's domain rules, free of UI and storage so they can be tested hard and shared by the
//! server and the browser build.

pub mod cidr;
pub mod keys;
pub mod policy;
pub mod scopes;
pub mod time;
pub mod verify;

pub use policy::{Action, Plan, PlanLimits, Role};
