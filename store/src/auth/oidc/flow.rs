//! One sign-in's secrets between leaving for the provider and coming back: `state`, `nonce`,
//! the PKCE verifier and an expiry, kept in the browser in a cookie MAC'd under a key derived
//! from the pepper. Nothing is stored on the server, so an anonymous caller starting flows
//! grows no table.

use latchkey_domain::keys::{Digest, Pepper};
use serde::{Deserialize, Serialize};

/// The flow cookie's name; its path is `/auth/oidc`, so no other request carries it.
pub const FLOW_COOKIE: &str = "lk_oidc";
/// How long a flow may take, from leaving for the provider to coming back.
pub const FLOW_TTL_SECS: u64 = 10 * 60;

/// What the callback checks the provider's answer against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
}

/// The flow cookie's MAC key: HMAC-SHA-256(pepper, a label of its own), so it is no key digest.
pub fn flow_key(pepper: &Pepper) -> Pepper {
    let derived = Digest::of(pepper, "latchkey oidc flow cookie v1");
    // 32 bytes: always long enough.
    Pepper::new(derived.as_bytes().to_vec()).unwrap_or_else(|| pepper.clone())
}

/// `base64url(json).hex(mac)`: the cookie's value.
pub fn seal(key: &Pepper, flow: &Flow) -> String {
    use base64::Engine as _;
    let json = serde_json::to_vec(flow).unwrap_or_default();
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let mac = Digest::of(key, &body).to_hex();
    format!("{body}.{mac}")
}

/// The flow in a cookie value, if its MAC is ours and it has not expired at `now_ms`.
pub fn open(key: &Pepper, sealed: &str, now_ms: i64) -> Option<Flow> {
    use base64::Engine as _;
    let (body, mac) = sealed.rsplit_once('.')?;
    let presented = Digest::from_hex(mac)?;
    if !Digest::of(key, body).ct_eq(&presented) {
        return None;
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .ok()?;
    let flow: Flow = serde_json::from_slice(&json).ok()?;
    (flow.expires_at > now_ms).then_some(flow)
}

/// The `Set-Cookie` for a flow (an empty value with `max_age_secs` 0 clears it). Lax: the
/// provider sends the browser back with a top-level GET, which carries it.
pub fn flow_cookie(value: &str, max_age_secs: u64, secure: bool) -> String {
    let mut c = format!(
        "{FLOW_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"
    );
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        Flow {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_sealed_flow_opens_only_untouched_under_its_key_and_before_expiry() {
        let key = flow_key(&Pepper::new(vec![7; 32]).expect("long enough"));
        let other = flow_key(&Pepper::new(vec![8; 32]).expect("long enough"));
        let sealed = seal(&key, &flow());
        assert_eq!(open(&key, &sealed, 999), Some(flow()));
        assert_eq!(open(&key, &sealed, 1_000), None, "expired");
        assert_eq!(open(&other, &sealed, 0), None, "another key");
        let forged = seal(
            &other,
            &Flow {
                nonce: "mine".into(),
                ..flow()
            },
        );
        assert_eq!(open(&key, &forged, 0), None);
        let (body, mac) = sealed.rsplit_once('.').expect("two parts");
        assert_eq!(open(&key, &format!("{body}x.{mac}"), 0), None);
        assert_eq!(open(&key, "junk", 0), None);
    }
}
