//! Verifying a presented API key (SPEC §5), minus storage: reading the credential out of an
//! `Authorization` header, the answer codes, and the order in which a found key's rules apply.
//!
//! The order matters to a caller: only once the digest matched may an answer say anything more
//! specific than `invalid_api_key`; a revoked, disabled or expired key says so before anything else; a
//! suspended tenant (plan) comes before the per-request rules (address, then scope).

use crate::cidr::Allowlist;
use crate::scopes;
use crate::Plan;
use base64::Engine as _;
use std::borrow::Cow;
use std::net::IpAddr;

/// Why a request with a key is refused. Each has one HTTP status and one stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Missing, malformed, bad checksum or unknown: all alike, so nothing is learned by probing.
    InvalidApiKey,
    KeyRevoked,
    /// A reversible stop (re-enabled by an owner or admin).
    KeyDisabled,
    KeyExpired,
    IpNotAllowed,
    /// The endpoint needs this scope and the key lacks it.
    InsufficientScope(String),
    /// The tenant's plan has no API keys (e.g. after a downgrade to Starter): suspended.
    PlanRequired,
    RateLimited {
        retry_after_secs: u64,
    },
    /// The operator suspended the tenant: every key refused until it is active again.
    TenantSuspended,
    /// The key is limited to resources that do not include this one (`type:id`).
    ResourceNotAllowed(String),
    /// The key is limited to resources and the call named none: a limited key fails closed.
    ResourceRequired,
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::InvalidApiKey => "invalid_api_key",
            Rejection::KeyRevoked => "key_revoked",
            Rejection::KeyDisabled => "key_disabled",
            Rejection::KeyExpired => "key_expired",
            Rejection::IpNotAllowed => "ip_not_allowed",
            Rejection::InsufficientScope(_) => "insufficient_scope",
            Rejection::PlanRequired => "plan_required",
            Rejection::RateLimited { .. } => "rate_limited",
            Rejection::TenantSuspended => "tenant_suspended",
            Rejection::ResourceNotAllowed(_) => "resource_not_allowed",
            Rejection::ResourceRequired => "resource_required",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Rejection::InvalidApiKey
            | Rejection::KeyRevoked
            | Rejection::KeyDisabled
            | Rejection::KeyExpired => 401,
            Rejection::IpNotAllowed
            | Rejection::InsufficientScope(_)
            | Rejection::PlanRequired
            | Rejection::TenantSuspended
            | Rejection::ResourceNotAllowed(_)
            | Rejection::ResourceRequired => 403,
            Rejection::RateLimited { .. } => 429,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Rejection::InvalidApiKey => {
                "The API key is missing, malformed or unknown. Send it as `Authorization: Bearer <key>`."
                    .into()
            }
            Rejection::KeyRevoked => "This API key has been revoked.".into(),
            Rejection::KeyDisabled => {
                "This API key is disabled; an owner or admin can enable it again.".into()
            }
            Rejection::KeyExpired => "This API key has expired.".into(),
            Rejection::IpNotAllowed => {
                "This API key may not be used from this IP address (see its allowlist).".into()
            }
            Rejection::InsufficientScope(s) => {
                format!("This API key lacks the scope `{s}` that this request needs.")
            }
            Rejection::PlanRequired => {
                "API keys are suspended: the organisation's plan does not include them.".into()
            }
            Rejection::RateLimited { retry_after_secs } => {
                format!("Too many requests with this API key. Retry in {retry_after_secs} s.")
            }
            Rejection::TenantSuspended => {
                "API keys are suspended: the organisation is suspended by the operator.".into()
            }
            Rejection::ResourceNotAllowed(r) => {
                format!("This API key is limited to other resources and does not cover `{r}`.")
            }
            Rejection::ResourceRequired => {
                "This API key is limited to named resources: the request must name one.".into()
            }
        }
    }
}

/// The key in an `Authorization` header: `Bearer <key>`, or `Basic` with the key as the user
/// and an empty password (what `curl -u key:` sends). Anything else is `None`.
///
/// Takes raw bytes because a header may hold anything; never panics, never allocates for Bearer.
pub fn credential(header: &[u8]) -> Option<Cow<'_, str>> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, rest) = text.split_once(' ')?;
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Cow::Borrowed(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        // A key is 46 bytes; a longer Basic value is junk and not worth decoding.
        if rest.len() > 128 {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        if !password.is_empty() || user.is_empty() {
            return None;
        }
        return Some(Cow::Owned(user.to_owned()));
    }
    None
}

/// What verification needs to know about a key whose digest matched.
#[derive(Debug, Clone, Copy)]
pub struct KeyState<'a> {
    pub revoked: bool,
    pub disabled: bool,
    pub expires_at: Option<i64>,
    pub allowlist: &'a Allowlist,
}

/// The rules for a found key, in SPEC order, before its rate limit and the endpoint's scope.
/// `client` is `None` when the caller's address is unknown: then only an empty allowlist passes.
pub fn admit(
    key: KeyState<'_>,
    plan: Plan,
    client: Option<IpAddr>,
    now_ms: i64,
) -> Result<(), Rejection> {
    if key.revoked {
        return Err(Rejection::KeyRevoked);
    }
    if key.disabled {
        return Err(Rejection::KeyDisabled);
    }
    if key.expires_at.is_some_and(|at| at <= now_ms) {
        return Err(Rejection::KeyExpired);
    }
    if !plan.limits().api_keys {
        return Err(Rejection::PlanRequired);
    }
    let allowed = match client {
        Some(ip) => key.allowlist.allows(ip),
        None => key.allowlist.is_empty(),
    };
    if !allowed {
        return Err(Rejection::IpNotAllowed);
    }
    Ok(())
}

/// The resource rule: a key limited to `covered` (of type `kind`) passes only a request that
/// names one of them; an unlimited key (`None`) passes any request, naming one or not.
pub fn check_resource(
    limited: Option<(&str, &[String])>,
    asked: Option<(&str, &str)>,
) -> Result<(), Rejection> {
    let Some((kind, covered)) = limited else {
        return Ok(());
    };
    let Some((asked_kind, asked_id)) = asked else {
        return Err(Rejection::ResourceRequired);
    };
    if asked_kind == kind && covered.iter().any(|id| id == asked_id) {
        Ok(())
    } else {
        Err(Rejection::ResourceNotAllowed(format!(
            "{asked_kind}:{asked_id}"
        )))
    }
}

/// The endpoint's scope check: `*` or exactly the declared scope.
pub fn require_scope(held: &[String], required: &str) -> Result<(), Rejection> {
    if scopes::grants(held, required) {
        Ok(())
    } else {
        Err(Rejection::InsufficientScope(required.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn bearer_and_basic_are_read() {
        assert_eq!(credential(b"Bearer lk_x").as_deref(), Some("lk_x"));
        assert_eq!(credential(b"bearer   lk_x ").as_deref(), Some("lk_x"));
        let basic = format!("Basic {}", b64("lk_key:"));
        assert_eq!(credential(basic.as_bytes()).as_deref(), Some("lk_key"));
    }

    #[test]
    fn everything_else_is_no_credential() {
        for bad in [
            &b""[..],
            b"Bearer",
            b"Bearer ",
            b"lk_x",
            b"Token lk_x",
            b"Bearer a b",
            b"Basic !!!",
            b"\xff\xfe Bearer",
            b"Bearer \xc3\x28",
        ] {
            assert_eq!(credential(bad), None, "{bad:?}");
        }
        // Basic needs an empty password and a user.
        for pair in ["lk_key:secret", ":", "nocolon", ":lk_key"] {
            let h = format!("Basic {}", b64(pair));
            assert_eq!(credential(h.as_bytes()), None, "{pair}");
        }
        let long = format!("Basic {}", "A".repeat(200));
        assert_eq!(credential(long.as_bytes()), None);
    }

    fn state(allowlist: &Allowlist) -> KeyState<'_> {
        KeyState {
            revoked: false,
            disabled: false,
            expires_at: None,
            allowlist,
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let any = Allowlist::default();
        let office = Allowlist::parse_lines("203.0.113.0/24\n2001:db8::/32").expect("ok");
        let inside: IpAddr = "203.0.113.7".parse().expect("ip");
        let outside: IpAddr = "198.51.100.1".parse().expect("ip");
        let pro = Plan::Professional;

        assert_eq!(admit(state(&any), pro, Some(outside), 0), Ok(()));
        assert_eq!(admit(state(&office), pro, Some(inside), 0), Ok(()));
        assert_eq!(
            admit(
                state(&office),
                pro,
                Some("2001:db8::9".parse().expect("ip")),
                0
            ),
            Ok(())
        );
        assert_eq!(
            admit(state(&office), pro, Some(outside), 0),
            Err(Rejection::IpNotAllowed)
        );
        // An unknown address only passes an empty allowlist.
        assert_eq!(admit(state(&any), pro, None, 0), Ok(()));
        assert_eq!(
            admit(state(&office), pro, None, 0),
            Err(Rejection::IpNotAllowed)
        );
        // Plan before address.
        assert_eq!(
            admit(state(&office), Plan::Starter, Some(outside), 0),
            Err(Rejection::PlanRequired)
        );
        // Expiry before plan; the expiry instant itself is already expired.
        let expiring = KeyState {
            expires_at: Some(1_000),
            ..state(&office)
        };
        assert_eq!(
            admit(expiring, Plan::Starter, Some(inside), 999),
            Err(Rejection::PlanRequired)
        );
        assert_eq!(admit(expiring, pro, Some(inside), 999), Ok(()));
        assert_eq!(
            admit(expiring, pro, Some(inside), 1_000),
            Err(Rejection::KeyExpired)
        );
        // Disabled right after revoked: before expiry, plan and address.
        let disabled = KeyState {
            disabled: true,
            ..expiring
        };
        assert_eq!(
            admit(disabled, Plan::Starter, Some(outside), 5_000),
            Err(Rejection::KeyDisabled)
        );
        // Revoked before everything.
        let revoked = KeyState {
            revoked: true,
            ..disabled
        };
        assert_eq!(
            admit(revoked, Plan::Starter, None, 5_000),
            Err(Rejection::KeyRevoked)
        );
    }

    #[test]
    fn a_limited_key_passes_only_the_resources_it_covers() {
        let covered = ["acct_1".to_owned(), "acct_2".to_owned()];
        let limited = Some(("account", &covered[..]));
        type Row<'a> = (
            Option<(&'a str, &'a [String])>,
            Option<(&'a str, &'a str)>,
            Result<(), Rejection>,
        );
        let rows: [Row; 6] = [
            (limited, Some(("account", "acct_1")), Ok(())),
            (limited, Some(("account", "acct_2")), Ok(())),
            (
                limited,
                Some(("account", "acct_3")),
                Err(Rejection::ResourceNotAllowed("account:acct_3".into())),
            ),
            (
                limited,
                Some(("project", "acct_1")),
                Err(Rejection::ResourceNotAllowed("project:acct_1".into())),
            ),
            (limited, None, Err(Rejection::ResourceRequired)),
            (None, Some(("account", "anything")), Ok(())),
        ];
        for (i, (limited, asked, expected)) in rows.into_iter().enumerate() {
            assert_eq!(check_resource(limited, asked), expected, "row {i}");
        }
        assert_eq!(check_resource(None, None), Ok(()));
        // A key whose every resource was deleted still refuses (it stays limited).
        assert_eq!(
            check_resource(Some(("account", &[])), Some(("account", "acct_1"))),
            Err(Rejection::ResourceNotAllowed("account:acct_1".into()))
        );
    }

    #[test]
    fn scopes_are_exact_or_wildcard() {
        let held = vec!["keys:write".to_owned()];
        assert_eq!(require_scope(&held, "keys:write"), Ok(()));
        let err = require_scope(&held, "keys:read").expect_err("write is not read");
        assert_eq!(err.code(), "insufficient_scope");
        assert!(err.message().contains("keys:read"));
        assert_eq!(require_scope(&["*".to_owned()], "audit:read"), Ok(()));
    }

    #[test]
    fn codes_and_statuses_match_the_spec() {
        let table = [
            (Rejection::InvalidApiKey, 401, "invalid_api_key"),
            (Rejection::KeyRevoked, 401, "key_revoked"),
            (Rejection::KeyDisabled, 401, "key_disabled"),
            (Rejection::KeyExpired, 401, "key_expired"),
            (Rejection::IpNotAllowed, 403, "ip_not_allowed"),
            (
                Rejection::InsufficientScope("x:y".into()),
                403,
                "insufficient_scope",
            ),
            (Rejection::PlanRequired, 403, "plan_required"),
            (Rejection::TenantSuspended, 403, "tenant_suspended"),
            (
                Rejection::ResourceNotAllowed("account:a".into()),
                403,
                "resource_not_allowed",
            ),
            (Rejection::ResourceRequired, 403, "resource_required"),
            (
                Rejection::RateLimited {
                    retry_after_secs: 3,
                },
                429,
                "rate_limited",
            ),
        ];
        for (r, status, code) in table {
            assert_eq!(r.status(), status);
            assert_eq!(r.code(), code);
            assert!(!r.message().is_empty());
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever arrives, reading the credential and parsing the key never panic, and
        /// nothing but a well-formed, checksummed key gets through `parse`.
        #[test]
        fn any_header_is_handled(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(c) = credential(&bytes) {
                if let Ok(k) = crate::keys::parse(&c) {
                    prop_assert_eq!(k.full.len(), crate::keys::KEY_LEN);
                }
            }
        }

        #[test]
        fn bearer_text_is_returned_verbatim(s in "[!-~]{1,80}") {
            let header = format!("Bearer {s}");
            let got = credential(header.as_bytes());
            prop_assert_eq!(got.as_deref(), Some(s.as_str()));
        }
    }
}
