//! Input checks for creating and editing keys: every problem is collected, so the dialog (or
//! the API's `fields`) can show them all at once.

use latchkey_domain::cidr::Allowlist;
use latchkey_domain::error::{AppError, AppResult, FieldError};
use latchkey_domain::scopes;
use latchkey_domain::text;
use latchkey_domain::views::{KeyEdit, NewKey};

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 500;

/// A new key's inputs once they passed.
pub(super) struct NewKeyChecked {
    pub allowlist: Allowlist,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
}

fn push(errors: &mut Vec<FieldError>, field: &str, message: impl Into<String>) {
    errors.push(FieldError {
        field: field.to_owned(),
        message: message.into(),
    });
}

/// Checks a new key. `granter_scopes` limits what may be granted (a key creating keys can never
/// grant more than it holds).
pub(super) fn new_key(
    new: &NewKey,
    catalogue: &[String],
    granter_scopes: Option<&[String]>,
    now: i64,
) -> AppResult<NewKeyChecked> {
    let mut errors = Vec::new();
    let allowlist = common(&new.name, &new.description, &new.allowlist, &mut errors);
    let scopes = match scopes::validate(&new.scopes, catalogue) {
        Ok(s) => Some(s),
        Err(e) => {
            push(&mut errors, "scopes", capitalise(&e.to_string()));
            None
        }
    };
    if let (Some(granter), Some(wanted)) = (granter_scopes, scopes.as_ref()) {
        if !scopes::covers(granter, wanted) {
            push(
                &mut errors,
                "scopes",
                "A key can only grant scopes it holds itself.",
            );
        }
    }
    let expires_at = match new.expires_on.trim() {
        "" => None,
        s => match latchkey_domain::time::parse_date_end_ms(s) {
            Some(ms) if ms > now => Some(ms),
            Some(_) => {
                push(&mut errors, "expires_on", "Choose a date in the future.");
                None
            }
            None => {
                push(&mut errors, "expires_on", "Use a date like 2027-01-31.");
                None
            }
        },
    };
    match (allowlist, scopes, errors.is_empty()) {
        (Some(allowlist), Some(scopes), true) => Ok(NewKeyChecked {
            allowlist,
            scopes,
            expires_at,
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Checks an edit (name, description, allowlist: all an edit may change).
pub(super) fn edit(edit: &KeyEdit) -> AppResult<Allowlist> {
    let mut errors = Vec::new();
    match common(&edit.name, &edit.description, &edit.allowlist, &mut errors) {
        Some(allowlist) if errors.is_empty() => Ok(allowlist),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Checks name, description and allowlist; collects every problem at once.
fn common(
    name: &str,
    description: &str,
    allowlist: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Allowlist> {
    // Unsafe characters are looked for before trimming: a form feed or other control character
    // at either end is still one the caller sent (and the document refuses).
    let raw_name = name;
    let name = name.trim();
    if name.is_empty() {
        push(errors, "name", "Give the key a name.");
    } else if name.chars().count() > NAME_MAX {
        push(
            errors,
            "name",
            format!("Use at most {NAME_MAX} characters."),
        );
    } else if let Some(msg) = text::unsafe_text_error(raw_name) {
        push(errors, "name", msg);
    }
    if description.trim().chars().count() > DESCRIPTION_MAX {
        push(
            errors,
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        );
    } else if let Some(msg) = text::unsafe_text_error(description) {
        push(errors, "description", msg);
    }
    match Allowlist::parse_lines(allowlist) {
        Ok(a) => Some(a),
        Err(lines) => {
            for l in lines {
                let msg = if l.line > 0 {
                    format!("Line {}: {}", l.line, l.message)
                } else {
                    l.message
                };
                push(errors, "allowlist", msg);
            }
            None
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
