//! Who may change whose membership (SPEC §2: owners manage members and roles; admins too, but
//! not owners), and the one password rule every way of setting a password goes through.

use crate::Role;

/// Why a membership change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRefusal {
    /// The actor's role may not manage members at all (member, viewer).
    NotAManager,
    /// An admin acting on an owner, or making someone an owner.
    OwnersOnly,
    /// The change would leave the tenant without an owner.
    LastOwner,
}

impl MemberRefusal {
    pub fn message(self) -> &'static str {
        match self {
            MemberRefusal::NotAManager => "Only owners and admins can manage members.",
            MemberRefusal::OwnersOnly => {
                "Only an owner can change an owner or make someone an owner."
            }
            MemberRefusal::LastOwner => {
                "The organisation needs at least one owner. Make someone else owner first."
            }
        }
    }
}

fn manages(actor: Role) -> Result<(), MemberRefusal> {
    match actor {
        Role::Owner | Role::Admin => Ok(()),
        Role::Member | Role::Viewer => Err(MemberRefusal::NotAManager),
    }
}

/// Whether `actor` may give a person `role` (an invitation, or a role change to `role`).
pub fn may_grant(actor: Role, role: Role) -> Result<(), MemberRefusal> {
    manages(actor)?;
    if role == Role::Owner && actor != Role::Owner {
        return Err(MemberRefusal::OwnersOnly);
    }
    Ok(())
}

/// Whether `actor` may change or remove someone who is now `target` (the last-owner rule is
/// checked in storage, where the count is).
pub fn may_touch(actor: Role, target: Role) -> Result<(), MemberRefusal> {
    manages(actor)?;
    if target == Role::Owner && actor != Role::Owner {
        return Err(MemberRefusal::OwnersOnly);
    }
    Ok(())
}

/// Whether `actor` may change `target`'s role to `to`.
pub fn may_change_role(actor: Role, target: Role, to: Role) -> Result<(), MemberRefusal> {
    may_touch(actor, target)?;
    may_grant(actor, to)
}

pub const PASSWORD_MIN_CHARS: usize = 12;

/// The commonest passwords of 12 characters or more (from public breach lists): refused
/// whatever their case.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678910",
    "qwertyuiopasdfgh",
    "qwertyuiop123",
    "password1234",
    "password12345",
    "password123!",
    "passwordpassword",
    "iloveyou1234",
    "abcdefghijkl",
    "abc123abc123",
    "111111111111",
    "000000000000",
    "123123123123",
    "letmein12345",
    "welcome12345",
    "administrator",
    "changeme1234",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "aaaaaaaaaaaa",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "trustno1trustno1",
    "latchkeylatchkey",
    "correcthorsebatterystaple",
];

/// The password rule: at least 12 characters, not the email (or its name part), not one of
/// the commonest passwords. Returns the message for the field.
pub fn check_password(password: &str, email: &str) -> Result<(), &'static str> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err("Use at least 12 characters.");
    }
    let lower = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    if lower == email || (!local.is_empty() && lower == local) {
        return Err("Don't use your email address as your password.");
    }
    if COMMON.contains(&lower.as_str()) {
        return Err("That password is one of the most common. Choose another.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberRefusal::*;
    use Role::*;

    #[test]
    fn role_changes_row_by_row() {
        // (actor, target now, to, allowed?)
        let rows = [
            (Owner, Owner, Admin, Ok(())),
            (Owner, Admin, Owner, Ok(())),
            (Owner, Viewer, Member, Ok(())),
            (Admin, Admin, Member, Ok(())),
            (Admin, Member, Admin, Ok(())),
            (Admin, Viewer, Admin, Ok(())),
            (Admin, Owner, Admin, Err(OwnersOnly)),
            (Admin, Member, Owner, Err(OwnersOnly)),
            (Admin, Owner, Owner, Err(OwnersOnly)),
            (Member, Viewer, Member, Err(NotAManager)),
            (Viewer, Viewer, Owner, Err(NotAManager)),
        ];
        for (actor, target, to, want) in rows {
            assert_eq!(
                may_change_role(actor, target, to),
                want,
                "{actor} {target} → {to}"
            );
        }
        assert_eq!(may_touch(Admin, Owner), Err(OwnersOnly));
        assert_eq!(may_touch(Admin, Viewer), Ok(()));
        assert_eq!(may_grant(Admin, Owner), Err(OwnersOnly));
        assert_eq!(may_grant(Owner, Owner), Ok(()));
        assert_eq!(may_grant(Member, Viewer), Err(NotAManager));
    }

    #[test]
    fn passwords_row_by_row() {
        let email = "Mia.Member@acme.test";
        for (pw, ok) in [
            ("short-pass", false),
            ("exactly12chr", true),
            ("mia.member@acme.test", false),
            ("MIA.MEMBER@ACME.TEST", false),
            ("Password1234", false),
            ("correct horse battery", true),
            ("ünïcødé-pässwörd", true),
        ] {
            assert_eq!(check_password(pw, email).is_ok(), ok, "{pw}");
        }
        assert_eq!(
            check_password("mia.memberxx", "mia.memberxx@x.io"),
            Err("Don't use your email address as your password.")
        );
    }
}
