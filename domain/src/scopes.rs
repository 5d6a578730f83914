//! Scopes: typed strings from a catalogue the operator can extend. `*` grants everything;
//! nothing else implies anything (`x:write` is not `x:read`).

use crate::keys::Mode;
use serde::{Deserialize, Serialize};

pub const WILDCARD: &str = "*";

/// Latchkey's own scopes plus the host product's defaults (SPEC §3).
pub const DEFAULT_CATALOGUE: &[&str] = &[
    "*",
    "keys:read",
    "keys:write",
    "audit:read",
    "request_logs:read",
    "verifications:read",
    "verifications:write",
    "envelopes:read",
    "envelopes:write",
    "clients:read",
    "clients:write",
    "webhooks:write",
];

/// What each default scope grants, in one line (the operator gives their own scopes theirs:
/// `--catalogue-scope 'reports:read=Read usage reports'`).
pub const DEFAULT_DESCRIPTIONS: &[(&str, &str)] = &[
    ("*", "Everything, including every scope added later"),
    ("keys:read", "List and read this organisation's API keys"),
    ("keys:write", "Create, edit, roll and revoke keys it covers"),
    ("audit:read", "Read the audit log"),
    ("request_logs:read", "Read keys' request logs"),
    ("verifications:read", "Read verification results"),
    ("verifications:write", "Start verifications"),
    ("envelopes:read", "Read envelopes and their status"),
    ("envelopes:write", "Create, send and void envelopes"),
    ("clients:read", "Read client records"),
    ("clients:write", "Create and update client records"),
    ("webhooks:write", "Register and change webhook endpoints"),
];

/// A scope of the catalogue with its one-line description, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
}

/// The description of `scope` in `catalogue`, if it has one.
pub fn describe<'a>(catalogue: &'a [ScopeInfo], scope: &str) -> Option<&'a str> {
    catalogue
        .iter()
        .find(|s| s.name == scope)
        .map(|s| s.description.as_str())
        .filter(|d| !d.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ScopeError {
    #[error("choose at least one scope")]
    Empty,
    #[error("unknown scope “{0}”")]
    Unknown(String),
}

/// Whether a scope name is well formed: `*` or `resource:action` in lower case.
pub fn is_well_formed(s: &str) -> bool {
    if s == WILDCARD {
        return true;
    }
    let mut parts = s.split(':');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.len() <= 40
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// Checks a requested set against the catalogue; returns it sorted and de-duplicated.
pub fn validate(requested: &[String], catalogue: &[String]) -> Result<Vec<String>, ScopeError> {
    let mut out: Vec<String> = Vec::new();
    for s in requested {
        let s = s.trim();
        if !catalogue.iter().any(|c| c == s) {
            return Err(ScopeError::Unknown(s.to_owned()));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    if out.is_empty() {
        return Err(ScopeError::Empty);
    }
    // `*` already covers everything: keep the stored set honest.
    if out.iter().any(|s| s == WILDCARD) {
        return Ok(vec![WILDCARD.to_owned()]);
    }
    out.sort();
    Ok(out)
}

/// Whether a key holding `held` may use an endpoint requiring `required`.
pub fn grants(held: &[String], required: &str) -> bool {
    held.iter().any(|h| h == WILDCARD || h == required)
}

/// Whether every scope in `wanted` is covered by `held` (no privilege escalation).
pub fn covers(held: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| {
        if w == WILDCARD {
            held.iter().any(|h| h == WILDCARD)
        } else {
            grants(held, w)
        }
    })
}

/// Whether a key (`caller_*`) may read, list, edit, roll or revoke another key (`target_*`) of
/// its tenant through the API: it must cover every scope of the target (so it could have
/// created it) and may use the target's mode (a test key touches only test keys). A key always
/// covers itself.
pub fn may_manage(
    caller_scopes: &[String],
    caller_mode: Mode,
    target_scopes: &[String],
    target_mode: Mode,
) -> bool {
    let mode_ok = caller_mode == Mode::Live || target_mode == Mode::Test;
    mode_ok && covers(caller_scopes, target_scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn cat() -> Vec<String> {
        v(DEFAULT_CATALOGUE)
    }

    #[test]
    fn catalogue_is_well_formed() {
        assert!(DEFAULT_CATALOGUE.iter().all(|s| is_well_formed(s)));
        // Every default scope explains itself.
        assert!(DEFAULT_CATALOGUE.iter().all(|s| DEFAULT_DESCRIPTIONS
            .iter()
            .any(|(n, d)| n == s && !d.is_empty())));
        assert!(!is_well_formed("Keys:read"));
        assert!(!is_well_formed("keys"));
        assert!(!is_well_formed("keys:read:extra"));
        assert!(!is_well_formed("keys:"));
    }

    #[test]
    fn validate_sorts_dedups_and_collapses_wildcard() {
        assert_eq!(
            validate(&v(&["keys:write", "keys:read", "keys:write"]), &cat()),
            Ok(v(&["keys:read", "keys:write"]))
        );
        assert_eq!(validate(&v(&["keys:read", "*"]), &cat()), Ok(v(&["*"])));
        assert_eq!(validate(&[], &cat()), Err(ScopeError::Empty));
        assert_eq!(
            validate(&v(&["admin:all"]), &cat()),
            Err(ScopeError::Unknown("admin:all".into()))
        );
    }

    #[test]
    fn write_does_not_imply_read() {
        assert!(grants(&v(&["keys:write"]), "keys:write"));
        assert!(!grants(&v(&["keys:write"]), "keys:read"));
        assert!(grants(&v(&["*"]), "audit:read"));
        assert!(!grants(&[], "keys:read"));
    }

    #[test]
    fn no_escalation() {
        assert!(covers(&v(&["*"]), &v(&["*"])));
        assert!(covers(&v(&["*"]), &v(&["audit:read"])));
        assert!(!covers(&v(&["keys:write"]), &v(&["audit:read"])));
        assert!(!covers(&v(&["keys:write", "keys:read"]), &v(&["*"])));
        assert!(covers(&v(&["keys:write", "keys:read"]), &v(&["keys:read"])));
    }

    #[test]
    fn may_manage_only_what_it_covers() {
        use Mode::{Live, Test};
        let all = &["*"][..];
        let kw = &["keys:write"][..];
        let kwr = &["keys:read", "keys:write"][..];
        let audit = &["audit:read"][..];
        let mixed = &["audit:read", "keys:read"][..];
        // Caller scopes, caller mode, target scopes, target mode, may manage.
        type Row<'a> = (&'a [&'a str], Mode, &'a [&'a str], Mode, bool);
        let table: &[Row] = &[
            (all, Live, all, Live, true),
            (all, Live, all, Test, true),
            (all, Live, audit, Live, true),
            (all, Test, all, Test, true),
            // A test key touches only test keys, whatever its scopes.
            (all, Test, all, Live, false),
            (all, Test, kw, Live, false),
            (kwr, Test, kw, Live, false),
            (kwr, Test, kw, Test, true),
            // Every scope of the target must be held; only `*` covers `*`.
            (kw, Live, all, Live, false),
            (kwr, Live, all, Test, false),
            (kwr, Live, audit, Live, false),
            (kwr, Live, mixed, Live, false),
            (kwr, Live, &["keys:read"], Live, true),
            (kwr, Live, kwr, Live, true),
            // `keys:write` does not imply `keys:read`.
            (kw, Live, &["keys:read"], Live, false),
            // Itself.
            (kw, Test, kw, Test, true),
        ];
        for (i, &(cs, cm, ts, tm, want)) in table.iter().enumerate() {
            assert_eq!(may_manage(&v(cs), cm, &v(ts), tm), want, "row {i}");
        }
    }
}
