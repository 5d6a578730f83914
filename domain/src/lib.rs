//! Latchkey's domain rules, free of UI and storage so they can be tested hard and shared by the
//! server and the browser build; plus the one error type and the plain data shapes (`views`)
//! every layer passes around.

/// Declares a `Copy` enum and its `(variant, name, meaning)` table from one list, so a variant
/// cannot lack a name, with `as_str`, `describe` and `parse` over the table (audit actions,
/// webhook events). Names never change once shipped: rows and receivers store them.
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($variant:ident = $text:literal : $meaning:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($variant,)*
        }

        /// `(variant, name, what it means)`, in the list's order.
        const TABLE: &[($name, &str, &str)] = &[$(($name::$variant, $text, $meaning),)*];

        impl $name {
            fn row(self) -> &'static ($name, &'static str, &'static str) {
                // The table is built in declaration order, so a variant's index is its row.
                &TABLE[self as usize]
            }

            /// The stored (and sent) name, e.g. `api_key.created`.
            pub fn as_str(self) -> &'static str {
                self.row().1
            }

            /// One sentence for people.
            pub fn describe(self) -> &'static str {
                self.row().2
            }

            pub fn parse(name: &str) -> Option<Self> {
                TABLE.iter().find(|(_, n, _)| *n == name).map(|(v, _, _)| *v)
            }
        }
    };
}

pub mod audit;
pub mod authz;
pub mod cidr;
pub mod error;
pub mod keys;
pub mod members;
pub mod operator;
pub mod policy;
pub mod portal;
pub mod scopes;
pub mod text;
pub mod time;
pub mod usage;
pub mod verify;
pub mod views;
pub mod webhooks;

pub use policy::{Action, Plan, PlanLimits, Role};
