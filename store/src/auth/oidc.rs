//! Signing in with the SaaS's OpenID provider: authorization code with PKCE (S256), `state` and
//! `nonce`, through the certified `openidconnect` crate. The provider is discovered at first
//! use (so Latchkey starts while it is down) and again every ten minutes or after a failure.
//! Every request to it goes through a client that follows no redirect and, unless
//! `allow_private`, connects to nothing inside the server's network.

mod flow;
mod people;

pub use flow::{flow_cookie, flow_key, open, seal, Flow, FLOW_COOKIE, FLOW_TTL_SECS};

use crate::db::Db;
use crate::webhooks::reach;
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::Pepper;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AsyncHttpClient, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpClientError, HttpRequest, HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

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

/// How long a discovery (metadata and signing keys) is used before asking again.
const DISCOVERY_TTL: Duration = Duration::from_secs(10 * 60);
/// Each request to the provider, connect included.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// How a callback ended.
#[derive(Debug)]
pub enum Finish {
    /// Signed in: the new session's cookie token.
    SignedIn(String),
    /// The person is known to the provider but belongs to no organisation here; nothing was
    /// created.
    NoMembership,
    /// Refused (state, code, nonce, provider): the detail is logged, never shown.
    Failed,
}

/// What the provider's redirect back brought, and the request around it.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    pub redirect_uri: &'a str,
    /// The flow cookie's value, if the browser sent one.
    pub flow_cookie: Option<&'a str>,
    pub code: &'a str,
    pub state: &'a str,
    pub ip: IpAddr,
    /// A session cookie the browser presented: ended once the new session exists (fixation).
    pub replaces: Option<&'a str>,
}

/// The sign-in service: settings, the guarded client, the cached discovery, the flow key.
pub struct Oidc {
    settings: OidcSettings,
    http: Http,
    flow_key: Pepper,
    discovered: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// reqwest with the webhooks' guard: no redirects, no proxy, names resolved through
/// [`reach::GuardedResolver`] and literal addresses checked before sending.
struct Http {
    client: reqwest::Client,
    allow_private: bool,
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            // reqwest connects to a literal IP without asking the resolver.
            if !self.allow_private && reach::literal_refused(&request.uri().to_string()) {
                return Err(HttpClientError::Other(reach::Refused.to_string()));
            }
            self.client.call(request).await
        })
    }
}

impl Oidc {
    pub fn new(settings: OidcSettings, pepper: &Pepper) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .connect_timeout(PROVIDER_TIMEOUT)
            // A redirect could point anywhere, past the checks below.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the gate.
            .no_proxy()
            .user_agent(concat!("Latchkey/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(reach::GuardedResolver));
        }
        let client = builder.build().unwrap_or_else(|e| {
            // Only a broken TLS setup fails here; every call then fails and is logged.
            tracing::error!(error = %e, "OpenID client setup failed");
            reqwest::Client::new()
        });
        Self {
            http: Http {
                client,
                allow_private: settings.allow_private,
            },
            flow_key: flow_key(pepper),
            settings,
            discovered: tokio::sync::Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The provider's metadata and keys, discovered now if none are cached or they are old.
    async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        let mut cached = self.discovered.lock().await;
        if let Some((m, at)) = cached.as_ref() {
            if at.elapsed() < DISCOVERY_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| e.to_string())?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("discovery: {}", chain(&e)))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    /// Forgets the discovery (after a failure: the keys may have rotated).
    async fn forget(&self) {
        *self.discovered.lock().await = None;
    }

    async fn client(
        &self,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        let metadata = self.metadata().await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| e.to_string())?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a flow: where to send the browser, and the flow cookie's value. `None` when the
    /// provider cannot be reached (logged).
    pub async fn start(&self, redirect_uri: &str, now_ms: i64) -> Option<(String, String)> {
        let client = match self.client(redirect_uri).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "single sign-on could not start");
                self.forget().await;
                return None;
            }
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            expires_at: now_ms.saturating_add((FLOW_TTL_SECS * 1000) as i64),
        };
        Some((url.to_string(), seal(&self.flow_key, &flow)))
    }

    /// The provider sent the browser back: checks the flow cookie and `state`, exchanges the
    /// code with the PKCE verifier, verifies the ID token (signature, issuer, audience, expiry,
    /// nonce) and signs the person in if they belong somewhere.
    pub async fn finish(
        &self,
        db: &Db,
        policy: super::SessionPolicy,
        back: &Callback<'_>,
    ) -> AppResult<Finish> {
        let ip = back.ip;
        let now = db.clock.now_ms();
        let Some(flow) = back.flow_cookie.and_then(|c| open(&self.flow_key, c, now)) else {
            tracing::info!(%ip, "single sign-on refused: no valid flow cookie");
            return Ok(Finish::Failed);
        };
        if !latchkey_domain::keys::constant_time_eq(flow.state.as_bytes(), back.state.as_bytes()) {
            tracing::info!(%ip, "single sign-on refused: state does not match");
            return Ok(Finish::Failed);
        }
        match self
            .verified_claims(back.redirect_uri, &flow, back.code)
            .await
        {
            Ok((claims, raw)) => {
                people::sign_in(db, self, policy, &claims, &raw, ip, back.replaces).await
            }
            Err(e) => {
                tracing::info!(%ip, error = %e, "single sign-on refused");
                self.forget().await;
                Ok(Finish::Failed)
            }
        }
    }

    /// The ID token's verified claims, typed and as JSON (for the tenant and role claims).
    async fn verified_claims(
        &self,
        redirect_uri: &str,
        flow: &Flow,
        code: &str,
    ) -> Result<(openidconnect::core::CoreIdTokenClaims, serde_json::Value), String> {
        let client = self.client(redirect_uri).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| format!("code exchange: {}", chain(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| "the token answer has no ID token".to_owned())?;
        let nonce = Nonce::new(flow.nonce.clone());
        let claims = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .map_err(|e| format!("ID token: {}", chain(&e)))?
            .clone();
        // The signature is verified above, so its payload can be read as it is.
        let raw = payload(&id_token.to_string()).unwrap_or_default();
        Ok((claims, raw))
    }
}

/// A JWT's payload as JSON.
fn payload(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// An error and its causes on one line, for the log.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
