//! The organisation a page was drawn for. Every tenant-scoped server function carries it and the
//! server refuses a mismatch, because the session (one cookie) is shared by every tab: a page
//! left open in one tab must not act on the organisation another tab switched to.

use crate::auth::api::SessionInfo;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in session, loaded once by the shell and shared with every page under it.
pub type SessionResource = Resource<Result<Option<SessionInfo>, AppError>>;

/// A handle on the page's tenant, taken from the shell's session (copy it into fetchers and
/// event handlers).
#[derive(Clone, Copy)]
pub struct PageTenant(SessionResource);

impl PageTenant {
    pub fn from_context() -> Self {
        Self(expect_context::<SessionResource>())
    }

    /// For a resource fetcher: waits for the session to load.
    pub async fn get(self) -> Result<i64, AppError> {
        self.0
            .await?
            .map(|s| s.tenant_id)
            .ok_or(AppError::Unauthorized)
    }

    /// For an event handler: the session has loaded before anyone can click. Unknown (0) is
    /// refused by the server like any other tenant that is not the session's.
    pub fn now(self) -> i64 {
        self.0
            .get_untracked()
            .and_then(Result::ok)
            .flatten()
            .map_or(0, |s| s.tenant_id)
    }
}
