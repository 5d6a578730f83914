//! Widgets shared by the pages. Pages import these; nothing here imports a page or the shell.

pub mod actions;
pub mod browser;
pub mod error_notice;
pub mod field;
pub mod form_errors;
pub mod gate;
pub mod loaded;
pub mod modal;
pub mod page_header;
pub mod pager;
pub mod pills;
pub mod ready;
pub mod requirements;
pub mod suspended_banner;
pub mod table;
pub mod tenant;
pub mod tenant_id;
pub mod when;

pub use actions::reload_on_success;
pub use error_notice::ErrorNotice;
pub use field::{Field, PASSWORD_HINT};
pub use form_errors::{field_error, form_error};
pub use gate::{gate, NoAccess, NoAccessCard, UpgradeCard};
pub use loaded::{silent, ErrorView, Loaded};
pub use modal::Modal;
pub use page_header::{ComingSoon, PageHeader};
pub use pager::Pager;
pub use pills::{key_state, mode_pill, scope_badges, status_pill};
pub use ready::Ready;
pub use requirements::RequirementsChecklist;
pub use suspended_banner::SuspendedBanner;
pub use table::DataTable;
pub use tenant::{PageTenant, SessionResource};
pub use tenant_id::TenantIdCopy;
pub use when::{Clock, When};
