//! Portal links' rules (issue 25): the `lkp_` token, how long a link lives, where it may land
//! (`next`) and where "Back to …" may lead (`return_url`). Pure, so both are tested row by row.

use crate::policy::Role;

/// Every portal link token starts with this (leak scanners and logs can tell it apart).
pub const TOKEN_PREFIX: &str = "lkp_";
/// Random base62 characters after the prefix: about 190 bits.
pub const TOKEN_RANDOM_LEN: usize = 32;
/// A link lives at most this long, and this long when the operator does not say.
pub const MAX_TTL_SECS: u64 = 300;
pub const DEFAULT_TTL_SECS: u64 = 120;
/// Where a redeemed link lands when it names nothing.
pub const DEFAULT_NEXT: &str = "/keys";
/// Longest `return_url` kept.
pub const RETURN_URL_MAX: usize = 2048;

/// Whether `token` has the shape of a portal token (checked before any storage work).
pub fn is_token(token: &str) -> bool {
    token.len() == TOKEN_PREFIX.len() + TOKEN_RANDOM_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// The pages a link may land on: the app's own paths, never another site (`//evil`, `https:`).
/// `Ok(Some(key_id))` when it names one key, which the caller checks is the tenant's.
pub fn check_next(next: &str) -> Result<Option<&str>, String> {
    const PAGES: [&str; 7] = [
        "/",
        "/keys",
        "/audit",
        "/members",
        "/webhooks",
        "/billing",
        "/account",
    ];
    if PAGES.contains(&next) {
        return Ok(None);
    }
    if let Some(id) = next.strip_prefix("/keys/") {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            return Ok(Some(id));
        }
    }
    Err("Use one of Latchkey's pages: /keys, /keys/<key id>, /audit, /members, /webhooks, /billing, /account.".to_owned())
}

/// `return_url` must lie on one of the operator's listed origins (no open redirect): the
/// origin itself, or it followed by `/`, `?` or `#`, with no spaces, controls or backslashes.
pub fn check_return_url(url: &str, origins: &[String]) -> Result<(), String> {
    let refused = || {
        if origins.is_empty() {
            "No return origin is configured (--portal-return-origin).".to_owned()
        } else {
            format!("Must start with one of: {}.", origins.join(", "))
        }
    };
    if url.len() > RETURN_URL_MAX
        || url
            .bytes()
            .any(|b| b <= b' ' || b == b'\\' || b == 0x7f || !b.is_ascii())
    {
        return Err(refused());
    }
    let on_origin = origins.iter().any(|o| {
        url.len() >= o.len()
            && url.is_char_boundary(o.len())
            && url[..o.len()].eq_ignore_ascii_case(o)
            && matches!(url.as_bytes().get(o.len()), None | Some(b'/' | b'?' | b'#'))
    });
    if on_origin {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The role a portal session acts with: the member's own, capped at member when the link was
/// read-only (reads keys, changes nothing).
pub fn session_role(role: Role, read_only: bool) -> Role {
    match role {
        Role::Owner | Role::Admin if read_only => Role::Member,
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_in_the_app() {
        let rows: &[(&str, Result<Option<&str>, ()>)] = &[
            ("/keys", Ok(None)),
            ("/", Ok(None)),
            ("/audit", Ok(None)),
            ("/keys/key_abc123", Ok(Some("key_abc123"))),
            ("//evil.example", Err(())),
            ("https://evil.example/keys", Err(())),
            ("/keys/../admin", Err(())),
            ("/keys/", Err(())),
            ("keys", Err(())),
            ("/keys?x=1", Err(())),
            ("/signin", Err(())),
            ("/\\evil.example", Err(())),
        ];
        for (next, want) in rows {
            assert_eq!(check_next(next).map_err(|_| ()), *want, "{next}");
        }
    }

    #[test]
    fn return_urls_stay_on_listed_origins() {
        let origins = vec![
            "https://app.example.com".to_owned(),
            "http://localhost:8080".to_owned(),
        ];
        let rows: &[(&str, bool)] = &[
            ("https://app.example.com", true),
            ("https://app.example.com/settings/api", true),
            ("https://APP.example.com/x", true),
            ("https://app.example.com?from=latchkey", true),
            ("http://localhost:8080/home", true),
            ("https://app.example.com.evil.com/", false),
            ("https://app.example.com@evil.com/", false),
            ("https://app.example.com:444/", false),
            ("http://app.example.com/", false),
            ("https://evil.com/?https://app.example.com", false),
            ("javascript:alert(1)//https://app.example.com", false),
            ("https://app.example.com/ x", false),
            ("https://app.example.com/\\evil", false),
            ("/relative", false),
        ];
        for (url, ok) in rows {
            assert_eq!(check_return_url(url, &origins).is_ok(), *ok, "{url}");
        }
        assert!(check_return_url("https://app.example.com", &[]).is_err());
    }

    #[test]
    fn read_only_caps_at_member() {
        let rows = [
            (Role::Owner, false, Role::Owner),
            (Role::Owner, true, Role::Member),
            (Role::Admin, true, Role::Member),
            (Role::Member, true, Role::Member),
            (Role::Viewer, true, Role::Viewer),
            (Role::Admin, false, Role::Admin),
        ];
        for (role, read_only, want) in rows {
            assert_eq!(session_role(role, read_only), want, "{role:?} {read_only}");
        }
    }

    #[test]
    fn tokens_have_one_shape() {
        assert!(is_token("lkp_0123456789abcdefghijABCDEFGHIJ01"));
        assert!(!is_token("lkp_0123456789abcdefghijABCDEFGHIJ0"));
        assert!(!is_token("lkx_0123456789abcdefghijABCDEFGHIJ01"));
        assert!(!is_token("lkp_0123456789abcdefghijABCDEFGHIJ0!"));
    }
}
