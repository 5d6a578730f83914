//! Which dialog the list page has open, shared by the list, its rows and the dialogs.

use crate::api_keys::api::KeyView;

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Closed,
    Create,
    Edit(KeyView),
    Roll(KeyView),
    Revoke(KeyView),
}
