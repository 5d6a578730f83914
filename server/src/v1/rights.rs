//! The API's rule that keys act only within their own rights (SPEC §3): which keys a key may
//! see and manage, and the bounds a key it creates inherits (allowlist, expiry).

use super::error::ApiError;
use super::extract::Caller;
use latchkey_domain::cidr::{check_entries, Allowlist};
use latchkey_domain::error::{AppError, FieldError};
use latchkey_domain::scopes;
use latchkey_domain::time::{civil_from_days, parse_date_end_ms};
use latchkey_domain::views::KeyView;
use store::verify::KeyRecord;
use store::AppState;

const MS_PER_DAY: i64 = 86_400_000;

/// Why an allowlist beyond the caller's own is refused.
pub const ALLOWLIST_BEYOND: &str =
    "A key can only grant addresses within its own allowlist (an empty list allows any address).";

/// One key of the caller's tenant that the caller covers. A key it does not cover answers
/// exactly like another tenant's key (404 `not_found`), so its existence is not revealed.
pub async fn covered(state: &AppState, caller: &Caller, id: &str) -> Result<KeyView, ApiError> {
    let key = store::keys::get(&state.db, caller.tenant_id(), id).await?;
    let me = &caller.0.key;
    if !scopes::may_manage(&me.scopes, me.mode, &key.scopes, key.mode) {
        return Err(AppError::NotFound.into());
    }
    // A key limited to resources manages only keys limited to some of its own.
    if let Some(mine) = &me.resources {
        let theirs =
            store::operator::resources::of_public_key(&state.db, caller.tenant_id(), id).await?;
        if !store::operator::resources::covers(Some(mine), theirs.as_ref()) {
            return Err(AppError::NotFound.into());
        }
    }
    Ok(key)
}

/// Whether `lines` lie within the caller's allowlist. Lines that do not parse pass here: the
/// store's validation reports each of them.
pub fn within_allowlist(lines: &str, me: &KeyRecord) -> bool {
    Allowlist::parse_lines(lines).map_or(true, |asked| asked.is_within(&me.allowlist))
}

/// An allowlist a key asks to give another (an edit, a roll's replacement): well-formed
/// entries, all within the caller's own; else `422` naming `allowlist`.
pub fn allowlist_for(entries: &[String], me: &KeyRecord) -> Result<(), ApiError> {
    check_entries(entries).map_err(|message| ApiError::validation("allowlist", message))?;
    if within_allowlist(&entries.join("\n"), me) {
        Ok(())
    } else {
        Err(ApiError::validation("allowlist", ALLOWLIST_BEYOND))
    }
}

/// The last date (`YYYY-MM-DD`) whose end of day (how expiries are stored) is no later than
/// `end_ms`.
fn last_day_by(end_ms: i64) -> String {
    let (y, m, d) = civil_from_days((end_ms + 1).div_euclid(MS_PER_DAY) - 1);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A new key's allowlist and expiry, bounded by its creator's: the creator's own when the
/// request gives none, refused per field when wider or later.
pub fn within_creator(
    me: &KeyRecord,
    allowlist: Option<Vec<String>>,
    expires_on: Option<String>,
    now_ms: i64,
) -> Result<(String, String), ApiError> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let allowlist = match allowlist {
        None => me.allowlist.to_lines(),
        Some(lines) => {
            let text = lines.join("\n");
            if let Err(message) = check_entries(&lines) {
                problem("allowlist", message);
            } else if !within_allowlist(&text, me) {
                problem("allowlist", ALLOWLIST_BEYOND.to_owned());
            }
            text
        }
    };
    // A blank or padded date is refused, not read as "omitted": the document says a date.
    if expires_on
        .as_deref()
        .is_some_and(|s| s.is_empty() || s.trim() != s)
    {
        problem(
            "expires_on",
            "Use a date like 2027-01-31, or omit the field.".to_owned(),
        );
    }
    let asked = expires_on
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let expires_on = match (asked, me.expires_at) {
        (None, None) => String::new(),
        (None, Some(end)) => {
            let day = last_day_by(end);
            // Only a key expiring before the end of today (a rolled key's overlap) has no day.
            if parse_date_end_ms(&day).is_none_or(|d| d <= now_ms) {
                problem(
                    "expires_on",
                    "This key expires today: it cannot create keys that outlive it.".to_owned(),
                );
            }
            day
        }
        (Some(day), end) => {
            // A date that does not parse is left to the store's validation.
            if let (Some(end), Some(asked)) = (end, parse_date_end_ms(&day)) {
                if asked > end {
                    problem(
                        "expires_on",
                        format!(
                            "Choose {} or earlier: a key cannot outlive the key that creates it.",
                            last_day_by(end)
                        ),
                    );
                }
            }
            day
        }
    };
    if problems.is_empty() {
        Ok((allowlist, expires_on))
    } else {
        Err(AppError::Validation(problems).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_ends_no_later_than_the_expiry() {
        let end = parse_date_end_ms("2031-03-04").expect("date");
        // An expiry at the end of a day is that day; a moment earlier, the day before.
        assert_eq!(last_day_by(end), "2031-03-04");
        assert_eq!(last_day_by(end - 1), "2031-03-03");
        assert_eq!(last_day_by(end + 1), "2031-03-04");
        assert_eq!(last_day_by(end - MS_PER_DAY + 1), "2031-03-03");
    }
}
