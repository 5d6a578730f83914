//! Settings ▸ Audit log: every recorded action of the organisation, filtered from the URL (so a
//! view can be bookmarked and shared), paged by keyset, exported as CSV.

pub mod api;
mod filters;
mod page;
mod table;

pub use page::AuditPage;
