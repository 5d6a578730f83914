//! What the keys' islands share: which of a key's dialogs is open, and whether the island has
//! come to life yet ([`live`], shared by every island).

/// The dialog a key's actions island has open. Only the open one is in the page: every row has
/// its own island, and a closed dialog per row would repeat the dialog's ids and test ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    Closed,
    Edit,
    Roll,
    Revoke,
}

pub use crate::components::live;
