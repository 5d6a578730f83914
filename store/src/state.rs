//! The one piece of shared server state, handed to every route and (through the context) every
//! server function.

use crate::audit::retention::Retention;
use crate::auth::{SessionPolicy, SignIn};
use crate::db::Db;
use crate::limits::Limits;
use crate::verify::usage::UsageConfig;
use crate::verify::{Verifier, VerifierConfig};
use latchkey_domain::keys::Pepper;
use std::sync::Arc;
use std::time::Duration;

/// Settings the app needs at run time; the binary fills it from flags and `LATCHKEY_*` env.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether cookies may omit `Secure` (only when the public URL is plain HTTP). Secure
    /// deployments also name the cookie `__Host-lk_session` and send HSTS.
    pub insecure_cookies: bool,
    /// Session lifetime from sign-in.
    pub session_ttl: Duration,
    /// A session unused for this long ends, whatever its lifetime left.
    pub session_idle: Duration,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Sign-in attempts allowed per minute, per email and per client address.
    pub sign_in_per_email_per_minute: u32,
    pub sign_in_per_ip_per_minute: u32,
    /// The scope catalogue offered when creating keys.
    pub scope_catalogue: Vec<String>,
    /// One line per scope saying what it grants (defaults, then the operator's).
    pub scope_descriptions: std::collections::BTreeMap<String, String>,
    /// Every plan's limits, operator overrides applied.
    pub limits: Limits,
    /// SHA-256 of the token the host product's services present to `POST /v1/verify`;
    /// `None` turns that endpoint off.
    pub service_token_sha256: Option<[u8; 32]>,
    /// How long request-log rows are kept.
    pub request_log_retention: Duration,
    /// How often usage (request log, last used) is written.
    pub usage_flush_interval: Duration,
    /// Upper bound on how long a cached key may be stale after a change made by another process.
    pub key_cache_ttl: Duration,
    /// `redis://…`: each key's rate limit is shared by every replica; `None`: per process.
    pub rate_limit_store: Option<String>,
    /// First wait before listening for invalidations again after losing the listener.
    pub listener_retry: Duration,
    /// Failed verifications of well-formed keys allowed per client address a minute; past it
    /// the client is answered 429 without a storage read.
    pub failed_auth_per_minute: u32,
    /// How long audit events are kept, and the tenant-less log's row cap.
    pub audit_retention: Retention,
    /// The URL people open (`--public-url`), for links sent by mail.
    pub public_url: Option<String>,
    /// Outgoing mail (`--smtp-url`); `None`: invitation links are shown to the inviter instead.
    pub mailer: Option<crate::mail::Mailer>,
    /// Webhook delivery: timeout, retry base, polling and scanning intervals.
    pub webhooks: crate::webhooks::DispatcherConfig,
    /// Public keys GitHub signs leak reports with; a signed report must verify against one.
    pub leak_report_keys: crate::keys::leak_signature::ReportKeys,
    /// Every `/v1/leaks` answer takes at least this long, so a real key's handling (a write)
    /// cannot be told from junk by timing.
    pub leak_report_floor: Duration,
    /// Tokens `/v1/leaks` acts on per client address a minute (its IPv6 /48: eight times).
    pub leak_tokens_per_minute: u32,
    /// Leak reports acted on at once; past it a report is refused before any work.
    pub leak_reports_in_flight: usize,
    /// Resource types keys can be limited to (`--resource-type account=Bank account`).
    pub resource_types: Vec<latchkey_domain::operator::ResourceType>,
    /// Where the SaaS manages billing (`--billing-url`): the Billing page links there and
    /// offers no plan switcher. `None`: the standalone mode, with the switcher.
    pub billing_url: Option<String>,
    /// Portal links: return origins, refresh URL, their sessions' lifetime and idle window.
    pub portal: crate::portal::PortalSettings,
    /// Signing in with the SaaS's OpenID provider; `None`: off.
    pub oidc: Option<crate::auth::oidc::OidcSettings>,
    /// `false` (`--password-sign-in off`): the form is hidden and password sign-in refused.
    pub password_sign_in: bool,
    /// Origins allowed to frame the pages (CSP `frame-ancestors`); empty: none. Non-empty also
    /// makes the session cookie `SameSite=None; Secure; Partitioned`.
    pub frame_ancestors: Vec<String>,
    /// The change stream and gateway forward-auth (`/v1/changes`, `/v1/authz`).
    pub gateway: GatewaySettings,
}

/// How `/v1/changes` streams and how `/v1/authz` maps a forwarded request to a scope.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// A heartbeat this often on every change stream (the clients' lease is counted from it).
    pub changes_heartbeat: Duration,
    /// Change streams open at once on this process; past it a new one is answered 503.
    pub changes_max_streams: usize,
    /// `--authz-rule`s, in order: the first that matches names the scope.
    pub authz_rules: Vec<latchkey_domain::authz::AuthzRule>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            changes_heartbeat: Duration::from_millis(250),
            changes_max_streams: 1000,
            authz_rules: Vec::new(),
        }
    }
}

impl Settings {
    /// The catalogue with each scope's description, in catalogue order.
    pub fn catalogue_info(&self) -> Vec<latchkey_domain::scopes::ScopeInfo> {
        self.scope_catalogue
            .iter()
            .map(|name| latchkey_domain::scopes::ScopeInfo {
                name: name.clone(),
                description: self
                    .scope_descriptions
                    .get(name)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            insecure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            session_idle: Duration::from_secs(30 * 60),
            trusted_proxies: Vec::new(),
            sign_in_per_email_per_minute: 10,
            sign_in_per_ip_per_minute: 30,
            scope_catalogue: latchkey_domain::scopes::DEFAULT_CATALOGUE
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            scope_descriptions: latchkey_domain::scopes::DEFAULT_DESCRIPTIONS
                .iter()
                .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
                .collect(),
            limits: Limits::default(),
            service_token_sha256: None,
            request_log_retention: Duration::from_secs(30 * 86_400),
            usage_flush_interval: Duration::from_secs(1),
            key_cache_ttl: Duration::from_secs(10),
            rate_limit_store: None,
            listener_retry: Duration::from_millis(100),
            failed_auth_per_minute: VerifierConfig::default().failed_per_minute,
            audit_retention: Retention::default(),
            public_url: None,
            mailer: None,
            webhooks: crate::webhooks::DispatcherConfig::default(),
            leak_report_keys: Default::default(),
            leak_report_floor: Duration::from_millis(500),
            leak_tokens_per_minute: crate::keys::leak::TOKENS_PER_MINUTE,
            leak_reports_in_flight: crate::keys::leak::IN_FLIGHT,
            resource_types: Vec::new(),
            billing_url: None,
            portal: crate::portal::PortalSettings::default(),
            oidc: None,
            password_sign_in: true,
            frame_ancestors: Vec::new(),
            gateway: GatewaySettings::default(),
        }
    }
}

impl Settings {
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            ttl: self.session_ttl,
            idle: self.session_idle,
        }
    }

    /// The session cookie's name (`__Host-` prefixed when Secure).
    pub fn session_cookie_name(&self) -> &'static str {
        crate::auth::session_cookie_name(!self.insecure_cookies)
    }
}

/// Cloned for every request, often several times (each layer and extractor holding it), so
/// it is one `Arc`: a clone or drop is one atomic operation, not one per field (the drops alone
/// were the top user-space entry in a profile of `/v1/whoami`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every request reaches through [`AppState`].
pub struct Shared {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub pepper: Arc<Pepper>,
    pub sign_in: Arc<SignIn>,
    /// Verifies API keys, caches them, rate-limits them and records their usage.
    pub verifier: Arc<Verifier>,
    /// Delivers lifecycle webhooks from the outbox and scans for time-based key events.
    pub webhooks: Arc<crate::webhooks::Dispatcher>,
    /// What `/v1/leaks` reports may cost (token budgets, reports in flight).
    pub leaks: Arc<crate::keys::leak::LeakGate>,
    /// Signing in with the OpenID provider (`--oidc-*`); `None`: off.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}

impl AppState {
    /// Must be called inside a Tokio runtime: it starts the usage writer and cache upkeep.
    pub fn new(db: Db, settings: Settings, pepper: Pepper) -> Self {
        let sign_in = SignIn::new(
            settings.sign_in_per_email_per_minute,
            settings.sign_in_per_ip_per_minute,
        );
        let pepper = Arc::new(pepper);
        let verifier = Verifier::start(
            db.clone(),
            pepper.clone(),
            VerifierConfig {
                cache_ttl: settings.key_cache_ttl,
                failed_per_minute: settings.failed_auth_per_minute,
                limits: settings.limits,
                shared_rate_limits: settings.rate_limit_store.clone(),
                listener_retry: settings.listener_retry,
                ..VerifierConfig::default()
            },
            UsageConfig {
                flush_interval: settings.usage_flush_interval,
                retention: settings.request_log_retention,
                ..UsageConfig::default()
            },
        );
        let sign_in = Arc::new(sign_in.with_shared(verifier.shared_store()));
        spawn_upkeep(
            Arc::downgrade(&verifier),
            Arc::downgrade(&sign_in),
            db.clone(),
            settings.audit_retention,
        );
        let webhooks = crate::webhooks::Dispatcher::start(
            db.clone(),
            pepper.clone(),
            settings.webhooks.clone(),
        );
        let oidc = settings
            .oidc
            .clone()
            .map(|o| Arc::new(crate::auth::oidc::Oidc::new(o, &pepper)));
        Self(Arc::new(Shared {
            oidc,
            webhooks,
            leaks: Arc::new(crate::keys::leak::LeakGate::new(
                settings.leak_tokens_per_minute,
                settings.leak_reports_in_flight,
                crate::keys::leak::TRACKED_MAX,
            )),
            db,
            settings: Arc::new(settings),
            pepper,
            sign_in,
            verifier,
        }))
    }
}

/// Once a minute, until the verifier is gone: drop idle rate-limit state and expired cache
/// entries; at start and then hourly, apply audit retention.
fn spawn_upkeep(
    verifier: std::sync::Weak<Verifier>,
    sign_in: std::sync::Weak<SignIn>,
    db: Db,
    retention: Retention,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        for minute in 0u64.. {
            tick.tick().await;
            match (verifier.upgrade(), sign_in.upgrade()) {
                (Some(v), Some(s)) => {
                    v.housekeeping();
                    s.housekeeping();
                }
                _ => return,
            }
            if minute % 60 == 0 {
                if let Err(e) = crate::audit::retention::run(&db, retention).await {
                    tracing::error!(error = %e, "audit retention failed");
                }
                // Operator answers kept for `Idempotency-Key` replays live 24 hours.
                if let Err(e) = crate::operator::idempotency::prune(&db).await {
                    tracing::error!(error = %e, "idempotency prune failed");
                }
            }
        }
    });
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
