//! Settings ▸ API Keys: the list, the create dialog (secret shown once), edit, roll, disable,
//! revoke, detail.

pub mod api;
pub mod gates;

mod create_dialog;
mod detail;
mod detail_actions;
mod edit_dialog;
mod key_actions;
mod key_fields;
mod key_row;
mod lifecycle;
mod list;
mod list_filters;
mod list_state;
mod paging;
mod request_log;
mod requirements;
mod resource_picker;
mod revoke_dialog;
mod roll_dialog;
mod secret_reveal;
mod usage_chart;

pub use detail::KeyDetailPage;
pub use list::KeysPage;
