//! Widgets shared by the pages. Pages import these; nothing here imports a page or the shell.

pub mod browser;
pub mod enhance;
pub mod error_notice;
pub mod field;
pub mod filter_form;
pub mod form_errors;
pub mod gate;
pub mod loaded;
pub mod notice;
pub mod page_header;
pub mod pills;
pub mod posted;
pub mod ready;
pub mod requirements;
pub mod suspended_banner;
pub mod table;
pub mod tenant;
pub mod tenant_id;
pub mod when;

pub use enhance::Enhancer;
pub use error_notice::ErrorNotice;
pub use field::PASSWORD_HINT;
pub use filter_form::FilterForm;
pub use gate::{gate, NoAccess, NoAccessCard, UpgradeCard};
pub use loaded::{silent, ErrorView, Loaded};
pub use notice::PostedNotice;
pub use page_header::{ComingSoon, PageHeader};
pub use pills::{key_state, mode_pill, scope_badges, status_pill};
pub use posted::{posted_error, posted_field_error, posted_form_error};
pub use ready::{Hydrated, Ready};
pub use requirements::RequirementsChecklist;
pub use suspended_banner::SuspendedBanner;
pub use table::DataTable;
pub use tenant::{PageTenant, SessionResource};
pub use tenant_id::TenantIdCopy;
pub use when::When;
