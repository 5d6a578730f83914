//! Signing in with the SaaS's OpenID provider (authorization code with PKCE).

/// The operator's OpenID Connect settings (`--oidc-*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub button_label: String,
    pub tenant_claim: Option<String>,
    pub role_claim: Option<String>,
    /// Let the issuer resolve inside the operator's network (a provider run beside Latchkey).
    pub allow_private: bool,
}
