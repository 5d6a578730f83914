//! Signing in with the SaaS's OpenID provider: authorization code with PKCE (S256), `state` and
//! `nonce`, through the certified `openidconnect` crate. The provider is discovered at first
//! use (so Latchkey starts while it is down) and again every ten minutes, or sooner when an ID
//! token's signature does not verify (the keys may have rotated); never more than once in 30
//! seconds, so failed sign-ins, an attacker's included, cannot make Latchkey hammer it.
//! Every request to it goes through a client that follows no redirect and, unless
//! `allow_private`, connects to nothing inside the server's network.

mod claims;
mod discovered;
mod flow;
mod people;

use claims::{Claims, Extra};
use discovered::Discovered;
pub use flow::{flow_cookie, flow_key, open, seal, Flow, FLOW_COOKIE, FLOW_TTL_SECS};

use crate::db::Db;
use crate::webhooks::reach;
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::Pepper;
use openidconnect::core::{CoreClient, CoreGenderClaim, CoreProviderMetadata, CoreResponseType};
use openidconnect::OAuth2TokenResponse as _;
use openidconnect::{
    AccessToken, AsyncHttpClient, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, HttpClientError, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SubjectIdentifier,
    TokenResponse as _,
};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A client from discovery: its authorization endpoint set, token and UserInfo endpoints if
/// the provider has them.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

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
    discovered: std::sync::Mutex<Discovered>,
    /// Held by the one request discovering, so the others wait for its answer instead of
    /// asking too (only when nothing is cached: otherwise they use what is).
    discovering: tokio::sync::Mutex<()>,
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
            discovered: std::sync::Mutex::new(Discovered::default()),
            discovering: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Discovered> {
        // Nothing panics while holding it; a poisoned cache is still a valid one.
        self.discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The provider's metadata and keys, discovered now if none are cached or they are old or
    /// stale, unless the last attempt was under [`discovered::REDISCOVERY_GAP`] ago: then what
    /// is cached, however old, or an error.
    async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        if let Some(m) = self.cache().fresh() {
            return Ok(m);
        }
        let _discovering = match self.discovering.try_lock() {
            Ok(g) => g,
            Err(_) => {
                // Another request is asking: use the old answer meanwhile, or wait for the new.
                if let Some(m) = self.cache().metadata.clone() {
                    return Ok(m);
                }
                self.discovering.lock().await
            }
        };
        {
            let mut cache = self.cache();
            if let Some(m) = cache.fresh() {
                return Ok(m);
            }
            if !cache.may_ask() {
                return cache.metadata.clone().ok_or_else(|| {
                    "discovery failed moments ago; not asking again yet".to_owned()
                });
            }
            cache.attempted_at = Some(Instant::now());
        }
        // The cache's lock is not held across the request; `discovering` is (one at a time).
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| e.to_string())?;
        let found = CoreProviderMetadata::discover_async(issuer, &self.http).await;
        let mut cache = self.cache();
        match found {
            Ok(m) => {
                cache.metadata = Some(m.clone());
                cache.fetched_at = Some(Instant::now());
                cache.stale = false;
                Ok(m)
            }
            Err(e) => {
                let e = format!("discovery: {}", chain(&e));
                match cache.metadata.clone() {
                    Some(m) => {
                        tracing::warn!(error = %e, "single sign-on: using the previous discovery");
                        Ok(m)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// Marks the discovery stale: an ID token's signature did not verify, and the provider may
    /// have rotated its keys.
    fn forget(&self) {
        self.cache().stale = true;
    }

    async fn client(&self, redirect_uri: &str) -> Result<Client, String> {
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
        let (mut claims, client, access) = match self
            .verified_claims(back.redirect_uri, &flow, back.code)
            .await
        {
            Ok(verified) => verified,
            Err(e) => {
                tracing::info!(%ip, error = %e, "single sign-on refused");
                return Ok(Finish::Failed);
            }
        };
        // A returning person is known by (issuer, subject): UserInfo is asked only before.
        let known = people::identity(db, &claims.issuer, &claims.subject).await?;
        if known.is_none() && claims.wants_user_info(&self.settings) {
            match self.user_info(&client, access, &claims.subject).await {
                Ok(more) => claims.merge(more),
                Err(e) => {
                    tracing::info!(%ip, error = %e, "single sign-on refused");
                    return Ok(Finish::Failed);
                }
            }
        }
        people::sign_in(db, self, policy, &claims, known, ip, back.replaces).await
    }

    /// UserInfo's claims as JSON, through the guarded client; `openidconnect` refuses an
    /// answer about another subject than the ID token's.
    async fn user_info(
        &self,
        client: &Client,
        access: AccessToken,
        subject: &str,
    ) -> Result<serde_json::Value, String> {
        let expected = SubjectIdentifier::new(subject.to_owned());
        let claims: openidconnect::UserInfoClaims<Extra, CoreGenderClaim> = client
            .user_info(access, Some(expected))
            .map_err(|e| format!("UserInfo: {e}"))?
            .request_async(&self.http)
            .await
            .map_err(|e| format!("UserInfo: {}", chain(&e)))?;
        serde_json::to_value(&claims).map_err(|e| format!("UserInfo: {e}"))
    }

    /// The ID token's verified claims, the client that verified them and the access token.
    async fn verified_claims(
        &self,
        redirect_uri: &str,
        flow: &Flow,
        code: &str,
    ) -> Result<(Claims, Client, AccessToken), String> {
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
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c,
            Err(e) => {
                // Only a signature that does not verify says the cached keys may be old; a
                // refused code or nonce says nothing about them (and costs the provider nothing).
                if matches!(e, ClaimsVerificationError::SignatureVerification(_)) {
                    self.forget();
                }
                return Err(format!("ID token: {}", chain(&e)));
            }
        };
        // The signature is verified above, so its payload can be read as it is.
        let raw = payload(&id_token.to_string()).unwrap_or_default();
        let claims = Claims::new(claims.issuer().as_str(), claims.subject().as_str(), raw);
        Ok((claims, client, token.access_token().clone()))
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
