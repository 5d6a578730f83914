//! `latchkey serve`: the ways in without a Latchkey password (portal links, OpenID Connect) and
//! being framed inside the SaaS's own pages.

use clap::Args;
use std::path::PathBuf;

use super::parse_public_url;

#[derive(Debug, Clone, Args)]
pub struct WaysInArgs {
    /// The SaaS's name, shown as "← Back to <name>" in portal sessions that carry a return URL.
    #[arg(long, env = "LATCHKEY_PRODUCT_NAME", default_value = "the app")]
    pub product_name: String,
    /// An origin a portal link's `return_url` may point into, e.g. `https://app.example.com`.
    /// Repeat or comma-separate. A `return_url` anywhere else is refused when minting.
    #[arg(
        long = "portal-return-origin",
        env = "LATCHKEY_PORTAL_RETURN_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub portal_return_origins: Vec<String>,
    /// Where an ended portal session sends the browser (the SaaS mints a fresh link there),
    /// instead of the sign-in page.
    #[arg(long, env = "LATCHKEY_PORTAL_REFRESH_URL", value_parser = parse_public_url)]
    pub portal_refresh_url: Option<String>,
    /// Lifetime of a session opened by a portal link, in minutes.
    #[arg(
        long,
        env = "LATCHKEY_PORTAL_SESSION_TTL_MINUTES",
        default_value_t = 60
    )]
    pub portal_session_ttl_minutes: u64,
    /// Minutes a portal session may go unused before it ends.
    #[arg(
        long,
        env = "LATCHKEY_PORTAL_SESSION_IDLE_MINUTES",
        default_value_t = 15
    )]
    pub portal_session_idle_minutes: u64,
    /// The OpenID provider's issuer URL; with a client id and secret it turns on "Sign in with
    /// …" (authorization code with PKCE).
    #[arg(long, env = "LATCHKEY_OIDC_ISSUER", value_parser = parse_public_url)]
    pub oidc_issuer: Option<String>,
    /// The client id Latchkey is registered under at the provider.
    #[arg(long, env = "LATCHKEY_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (kept out of the process list and the environment).
    #[arg(long, env = "LATCHKEY_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// The sign-in button's words.
    #[arg(
        long,
        env = "LATCHKEY_OIDC_BUTTON_LABEL",
        default_value = "Sign in with single sign-on"
    )]
    pub oidc_button_label: String,
    /// An ID token claim naming the tenant (its external id) to make the person a member of.
    #[arg(long, env = "LATCHKEY_OIDC_TENANT_CLAIM")]
    pub oidc_tenant_claim: Option<String>,
    /// An ID token claim naming that membership's role (`owner`, `admin`, `member`, `viewer`).
    #[arg(long, env = "LATCHKEY_OIDC_ROLE_CLAIM")]
    pub oidc_role_claim: Option<String>,
    /// Let the issuer be inside the server's network (loopback, private addresses): for a
    /// provider run beside Latchkey. Off by default, like webhooks.
    #[arg(long, env = "LATCHKEY_OIDC_ALLOW_PRIVATE")]
    pub oidc_allow_private: bool,
    /// `off` hides and refuses password sign-in (everyone signs in with the provider or a portal
    /// link; `latchkey user reset-password` still works for the operator).
    #[arg(long, env = "LATCHKEY_PASSWORD_SIGN_IN", default_value = "on", value_parser = parse_on_off)]
    pub password_sign_in: bool,
    /// An origin allowed to frame Latchkey's pages, e.g. `https://app.example.com`. Repeat or
    /// comma-separate. Set: the session cookie becomes `SameSite=None; Secure; Partitioned`.
    /// Unset: no page can be framed.
    #[arg(
        long = "frame-ancestors",
        env = "LATCHKEY_FRAME_ANCESTORS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub frame_ancestors: Vec<String>,
}

impl WaysInArgs {
    /// The OpenID Connect settings: all of issuer, client id and secret file, or none of them.
    pub fn oidc(&self) -> anyhow::Result<Option<store::auth::oidc::OidcSettings>> {
        let args = self;
        use anyhow::Context;
        let (issuer, client_id, secret_file) = match (
            &args.oidc_issuer,
            &args.oidc_client_id,
            &args.oidc_client_secret_file,
        ) {
            (None, None, None) => return Ok(None),
            (Some(i), Some(c), Some(f)) => (i, c, f),
            _ => anyhow::bail!(
                "--oidc-issuer, --oidc-client-id and --oidc-client-secret-file go together"
            ),
        };
        let client_secret = std::fs::read_to_string(secret_file)
            .with_context(|| format!("--oidc-client-secret-file {}", secret_file.display()))?
            .trim()
            .to_owned();
        if client_secret.is_empty() {
            anyhow::bail!(
                "--oidc-client-secret-file {} is empty",
                secret_file.display()
            );
        }
        Ok(Some(store::auth::oidc::OidcSettings {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret,
            button_label: args.oidc_button_label.clone(),
            tenant_claim: args.oidc_tenant_claim.clone(),
            role_claim: args.oidc_role_claim.clone(),
            allow_private: args.oidc_allow_private,
        }))
    }
}

/// Why framed pages would lose their session, if they would: the framed cookie is `Secure`,
/// which browsers keep over plain HTTP only from loopback (`localhost`, `127.0.0.1`).
pub fn framing_problem(frame_ancestors: &[String], public_url: Option<&str>) -> Option<String> {
    if frame_ancestors.is_empty() {
        return None;
    }
    let url = public_url?;
    let host = url
        .strip_prefix("http://")?
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "--frame-ancestors with the plain-HTTP public URL {url}: browsers refuse the framed \
             session cookie (Secure) there, so framed pages cannot stay signed in; serve HTTPS"
        )
    })
}

/// `https://host[:port]`: a scheme, a host, no path; kept without a trailing slash.
pub(crate) fn parse_origin(s: &str) -> Result<String, String> {
    let url = url_parts(s)?;
    let origin = s.trim().trim_end_matches('/');
    if url.path() != "/" && !url.path().is_empty() {
        return Err(format!(
            "{s:?} is not an origin (no path): like https://app.example.com"
        ));
    }
    Ok(origin.to_owned())
}

fn url_parts(s: &str) -> Result<axum::http::Uri, String> {
    let uri: axum::http::Uri = s.trim().parse().map_err(|e| format!("not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https" | "http"), Some(_)) => Ok(uri),
        _ => Err(format!("{s:?} must look like https://app.example.com")),
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err("say on or off".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::{framing_problem, parse_origin};

    #[test]
    fn framing_over_plain_http_is_called_out_unless_on_loopback() {
        let framed = ["https://app.example.com".to_owned()];
        let rows = [
            (&framed[..], Some("http://keys.example.com"), true),
            (&framed[..], Some("http://keys.example.com:8080/"), true),
            (&framed[..], Some("https://keys.example.com"), false),
            (&framed[..], Some("http://127.0.0.1:3000"), false),
            (&framed[..], Some("http://localhost:3000"), false),
            (&framed[..], None, false),
            (&[][..], Some("http://keys.example.com"), false),
        ];
        for (ancestors, url, warned) in rows {
            assert_eq!(framing_problem(ancestors, url).is_some(), warned, "{url:?}");
        }
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert_eq!(
            parse_origin("https://app.example.com/").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            parse_origin("http://localhost:8080").as_deref(),
            Ok("http://localhost:8080")
        );
        assert!(parse_origin("https://app.example.com/portal").is_err());
        assert!(parse_origin("javascript:alert(1)").is_err());
        assert!(parse_origin("app.example.com").is_err());
    }
}
