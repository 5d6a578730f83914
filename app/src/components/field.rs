//! What every new-password field says (reset, invitation, change of password).

pub const PASSWORD_HINT: &str = "At least 12 characters; not your email, not a common password.";
