//! Settings ▸ API Keys: the list, the create dialog (secret shown once), edit, revoke, detail.

pub mod api;

mod create_dialog;
mod detail;
mod dialog;
mod edit_dialog;
mod key_fields;
mod key_row;
mod list;
mod request_log;
mod revoke_dialog;
mod secret_reveal;

pub use detail::KeyDetailPage;
pub use list::KeysPage;
