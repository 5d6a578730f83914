//! What the provider says about the person: the verified ID token's claims, completed from the
//! UserInfo endpoint. A conforming provider puts the claims a scope asks for (the email, and
//! often the tenant and role claims) in UserInfo only when it also issues an access token
//! (OpenID Connect Core 5.4), so the ID token alone would make every first sign-in a stranger.

use super::OidcSettings;
use crate::auth::normalise_email;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The person's claims: `iss` and `sub` from the verified ID token, the rest from it or, where
/// it has none, from UserInfo.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    pub issuer: String,
    pub subject: String,
    raw: Map<String, Value>,
}

/// UserInfo's claims beyond the standard ones (the tenant and role claims), kept as they are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Extra {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for Extra {}

impl Claims {
    /// `raw` is the ID token's payload, read after its signature was verified.
    pub fn new(issuer: &str, subject: &str, raw: Value) -> Self {
        Self {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            raw: match raw {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        }
    }

    /// A claim that is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }

    /// The email, normalised, when the provider says it verified it.
    pub fn verified_email(&self) -> Option<String> {
        // Some providers send the flag as a string.
        let verified = matches!(self.raw.get("email_verified"), Some(Value::Bool(true)))
            || self.text("email_verified") == Some("true");
        self.text("email").filter(|_| verified).map(normalise_email)
    }

    /// Whether the ID token lacks the email or a claim the settings map.
    pub fn wants_user_info(&self, settings: &OidcSettings) -> bool {
        let lacks = |c: &Option<String>| c.as_deref().is_some_and(|c| !self.raw.contains_key(c));
        !self.raw.contains_key("email")
            || lacks(&settings.tenant_claim)
            || lacks(&settings.role_claim)
    }

    /// Adds UserInfo's claims (already checked to be about this subject) where the ID token has
    /// none. The email and its `email_verified` come together, from one source.
    pub fn merge(&mut self, user_info: Value) {
        let Value::Object(more) = user_info else {
            return;
        };
        let email_from_token = self.raw.contains_key("email");
        if !email_from_token {
            self.raw.remove("email_verified");
        }
        for (k, v) in more {
            let paired = k == "email" || k == "email_verified";
            if (paired && email_from_token) || self.raw.contains_key(&k) || v.is_null() {
                continue;
            }
            self.raw.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> OidcSettings {
        OidcSettings {
            issuer: "https://id.example".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            button_label: "SSO".into(),
            tenant_claim: Some("org".into()),
            role_claim: None,
            allow_private: false,
        }
    }

    #[test]
    fn user_info_fills_in_what_the_id_token_left_out_and_never_overrides_it() {
        let mut c = Claims::new(
            "https://id.example",
            "s1",
            json!({"iss": "https://id.example", "sub": "s1", "email_verified": true}),
        );
        assert!(c.wants_user_info(&settings()));
        assert_eq!(c.verified_email(), None);
        c.merge(json!({"sub": "s1", "email": "A@B.test", "email_verified": false, "org": "acme"}));
        // The ID token's `email_verified` does not vouch for UserInfo's address.
        assert_eq!(c.verified_email(), None);
        assert_eq!(c.text("org"), Some("acme"));
        let mut c = Claims::new("i", "s1", json!({"sub": "s1", "email": "a@b.test"}));
        c.merge(json!({"sub": "other", "email": "evil@b.test", "email_verified": true}));
        assert_eq!(c.text("sub"), Some("s1"));
        assert_eq!(
            c.verified_email(),
            None,
            "the flag is not taken for the token's address"
        );
        let mut c = Claims::new("i", "s1", json!({"sub": "s1"}));
        c.merge(json!({"sub": "s1", "email": "A@B.test", "email_verified": "true", "org": "x"}));
        assert_eq!(c.verified_email().as_deref(), Some("a@b.test"));
        assert!(!c.wants_user_info(&settings()));
    }
}
