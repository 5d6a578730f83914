//! Lifecycle webhooks: the events a tenant can subscribe to (one table), the Standard Webhooks
//! signature (`webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>`), the retry
//! schedule, and the leak policy. Pure: storage and delivery live in `store::webhooks`.

use serde::{Deserialize, Serialize};

pub mod address;

// Names never change once shipped (receivers switch on them).
#[rustfmt::skip]
named_enum! {
/// What a webhook endpoint can be sent. The wire name is [`EventType::as_str`].
pub enum EventType {
    Created = "api_key.created": "A key was created (or issued as a roll's replacement).",
    Revoked = "api_key.revoked": "A key was revoked.",
    Rolled = "api_key.rolled": "A key was replaced; the old one works until its overlap ends.",
    Disabled = "api_key.disabled": "A key was switched off.",
    Enabled = "api_key.enabled": "A disabled key was switched back on.",
    Expiring = "api_key.expiring": "A key expires in 7 days, then again 1 day before.",
    Expired = "api_key.expired": "A key passed its expiry.",
    Unused = "api_key.unused": "A key has not been used for the organisation's chosen number of days.",
    Leaked = "api_key.leaked": "A key was reported exposed (and revoked or disabled by policy).",
    Test = "webhook.test": "A test event sent from the Webhooks page.",
}
}

impl EventType {
    /// Every event an endpoint may subscribe to (the test event is sent on request only).
    pub fn subscribable() -> impl Iterator<Item = EventType> {
        TABLE
            .iter()
            .map(|(e, _, _)| *e)
            .filter(|e| *e != EventType::Test)
    }

    /// The webhook an audited key action sends, if any (edits send none: nothing a key may do
    /// changed that a receiver acts on).
    pub fn of_audit(action: crate::audit::AuditAction) -> Option<Self> {
        use crate::audit::AuditAction as A;
        Some(match action {
            A::KeyCreated => EventType::Created,
            A::KeyRevoked => EventType::Revoked,
            A::KeyRolled => EventType::Rolled,
            A::KeyDisabled => EventType::Disabled,
            A::KeyEnabled => EventType::Enabled,
            A::KeyLeaked => EventType::Leaked,
            _ => return None,
        })
    }
}

/// What happens to a key reported leaked: the tenant's choice, revoke by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum LeakPolicy {
    #[default]
    Revoke,
    Disable,
}

impl LeakPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            LeakPolicy::Revoke => "revoke",
            LeakPolicy::Disable => "disable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revoke" => Some(LeakPolicy::Revoke),
            "disable" => Some(LeakPolicy::Disable),
            _ => None,
        }
    }
}

/// How long a delivery is retried before it is marked failed.
pub const RETRY_WINDOW_MS: i64 = 24 * 3_600_000;
/// Attempts shown per endpoint (older ones are pruned as new ones are written).
pub const ATTEMPTS_KEPT: i64 = 100;
/// Endpoints one organisation may have.
pub const MAX_ENDPOINTS: i64 = 10;
/// Days before expiry the two `api_key.expiring` warnings go out.
pub const EXPIRING_DAYS: [i64; 2] = [7, 1];
/// How long the previous signing secret keeps signing after a roll.
pub const SECRET_OVERLAP_MS: i64 = 24 * 3_600_000;

/// The wait before retry number `attempt` (1 = after the first failure): `base · 2^(attempt-1)`,
/// at most an hour, times `jitter` in `[0.5, 1.5)` so endpoints that failed together do not
/// come back together.
pub fn retry_delay_ms(base_ms: i64, attempt: u32, jitter: f64) -> i64 {
    let exp = base_ms.saturating_mul(1i64 << attempt.saturating_sub(1).min(30));
    let capped = exp.min(3_600_000) as f64;
    (capped * jitter.clamp(0.5, 1.5)).round() as i64
}

/// When the next attempt is due after `attempt` failures, or `None` when the 24 h window
/// would be over by then (the delivery is failed).
pub fn next_attempt_at(
    created_at: i64,
    now: i64,
    base_ms: i64,
    attempt: u32,
    jitter: f64,
) -> Option<i64> {
    let at = now.saturating_add(retry_delay_ms(base_ms, attempt, jitter));
    (at <= created_at.saturating_add(RETRY_WINDOW_MS)).then_some(at)
}

/// What an endpoint's log shows for one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub at: i64,
    pub event_id: String,
    pub event_type: String,
    /// The receiver's HTTP status; `None` when no answer came (refused, timed out).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed without an answer, in words.
    pub error: Option<String>,
    /// When it will be tried again; `None` when delivered or given up.
    pub next_retry_at: Option<i64>,
}

impl AttemptView {
    pub fn delivered(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// An endpoint as its owners see it: never the signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    /// `whe_…`
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub created_at: i64,
    pub created_by: String,
    /// While the previous secret still signs (after a roll), until when.
    pub previous_secret_until: Option<i64>,
    pub attempts: Vec<AttemptView>,
}

/// The organisation's key-safety settings (Billing page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySafety {
    pub leak_policy: LeakPolicy,
    /// `api_key.unused` after this many days without a request.
    pub unused_days: i64,
}

/// Bounds for [`KeySafety::unused_days`].
pub const UNUSED_DAYS_RANGE: std::ops::RangeInclusive<i64> = 1..=365;

#[cfg(feature = "secrets")]
mod signing {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    /// The prefix Standard Webhooks libraries strip before base64-decoding the key.
    pub const SECRET_PREFIX: &str = "whsec_";

    /// A signing secret as shown to the endpoint's owner (once): `whsec_<base64 of 32 bytes>`.
    /// Derived from the pepper and a stored nonce, so storage alone never holds it.
    pub fn signing_secret(pepper: &crate::keys::Pepper, nonce: &str) -> String {
        let key = crate::keys::Digest::of(pepper, &format!("webhook-signing-secret:{nonce}"));
        format!("{SECRET_PREFIX}{}", STANDARD.encode(key.as_bytes()))
    }

    /// One `v1,<base64>` signature of `id.timestamp.body` with a `whsec_` secret; `None` if the
    /// secret is not base64.
    pub fn sign(secret: &str, id: &str, timestamp_s: i64, body: &str) -> Option<String> {
        let key = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
            .ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(format!("{id}.{timestamp_s}.").as_bytes());
        mac.update(body.as_bytes());
        Some(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(feature = "secrets")]
pub use signing::{sign, signing_secret, SECRET_PREFIX};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_parses_back_and_the_test_event_is_not_subscribable() {
        for (e, name, _) in TABLE {
            assert_eq!(EventType::parse(name), Some(*e));
            assert_eq!(e.as_str(), *name);
        }
        assert!(!EventType::subscribable().any(|e| e == EventType::Test));
        assert_eq!(EventType::subscribable().count(), TABLE.len() - 1);
    }

    #[test]
    fn audited_key_actions_map_to_their_webhooks() {
        use crate::audit::AuditAction as A;
        for (action, event) in [
            (A::KeyCreated, Some(EventType::Created)),
            (A::KeyRevoked, Some(EventType::Revoked)),
            (A::KeyRolled, Some(EventType::Rolled)),
            (A::KeyDisabled, Some(EventType::Disabled)),
            (A::KeyEnabled, Some(EventType::Enabled)),
            (A::KeyLeaked, Some(EventType::Leaked)),
            (A::KeyUpdated, None),
            (A::SignedIn, None),
        ] {
            assert_eq!(EventType::of_audit(action), event, "{action:?}");
            // An audited action and its webhook share the name.
            if let Some(e) = event {
                assert_eq!(e.as_str(), action.as_str());
            }
        }
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        // (base, attempt, jitter, expected)
        for (base, attempt, jitter, want) in [
            (5_000, 1, 1.0, 5_000),
            (5_000, 2, 1.0, 10_000),
            (5_000, 4, 1.0, 40_000),
            (5_000, 4, 0.5, 20_000),
            (5_000, 4, 1.49, 59_600),
            (5_000, 20, 1.0, 3_600_000),
            (5_000, 200, 1.0, 3_600_000),
            (5_000, 3, 9.0, 30_000),
        ] {
            assert_eq!(
                retry_delay_ms(base, attempt, jitter),
                want,
                "{attempt} {jitter}"
            );
        }
    }

    #[test]
    fn a_delivery_gives_up_once_the_next_try_would_be_past_24_hours() {
        let created = 1_000_000;
        assert_eq!(
            next_attempt_at(created, created, 5_000, 1, 1.0),
            Some(created + 5_000)
        );
        let late = created + RETRY_WINDOW_MS - 1_000;
        assert_eq!(next_attempt_at(created, late, 5_000, 1, 1.0), None);
    }

    #[cfg(feature = "secrets")]
    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test suite.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[cfg(feature = "secrets")]
    #[test]
    fn signing_secrets_are_derived_per_nonce_and_base64() {
        use base64::Engine;
        let pepper = crate::keys::Pepper::new(vec![7; 32]).expect("pepper");
        let a = signing_secret(&pepper, "n1");
        assert_eq!(a, signing_secret(&pepper, "n1"));
        assert_ne!(a, signing_secret(&pepper, "n2"));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(raw.len(), 32);
    }
}
