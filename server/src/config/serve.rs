//! `latchkey serve`: the server's own settings.

use clap::Args;
use latchkey_domain::Plan;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::parse_public_url;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Seed the demo tenants and users on first start and print their sign-ins.
    #[arg(long, env = "LATCHKEY_DEMO")]
    pub demo: bool,
    /// With `--demo`: give Acme sample keys in every state and a day of their usage, on first
    /// start only (while Acme has no keys).
    #[arg(long, env = "LATCHKEY_DEMO_SAMPLES", requires = "demo")]
    pub demo_samples: bool,
    /// Directory with the built site (`pkg/`); cargo-leptos's `LEPTOS_SITE_ROOT` is read too.
    #[arg(long, env = "LATCHKEY_SITE_ROOT")]
    pub site_root: Option<String>,
    /// The URL people open, e.g. `https://keys.example.com` behind a TLS proxy. An `https`
    /// URL makes cookies `Secure` (named `__Host-lk_session`) and turns on HSTS, whatever
    /// address the server itself listens on.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Where the SaaS manages billing: the Billing page links there and offers no plan
    /// switcher (plans come from the operator API). Unset: the standalone mode, with the
    /// switcher.
    #[arg(long, env = "LATCHKEY_BILLING_URL", value_parser = parse_public_url)]
    pub billing_url: Option<String>,
    /// SMTP relay for invitation mail, e.g. `smtp://user:pass@relay:587?tls=required`. Needs
    /// `--public-url` (the link's base). Unset: the inviter is shown the link once instead.
    #[arg(long, env = "LATCHKEY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of that mail.
    #[arg(
        long,
        env = "LATCHKEY_MAIL_FROM",
        default_value = "Latchkey <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// Force the cookie `Secure` flag on or off; default: from `--public-url`, else off only
    /// when listening on loopback.
    #[arg(long, env = "LATCHKEY_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Proxies (CIDRs) whose `X-Forwarded-For` is believed. Repeat or comma-separate.
    #[arg(
        long = "trusted-proxy",
        env = "LATCHKEY_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Session lifetime in hours.
    #[arg(long, env = "LATCHKEY_SESSION_TTL_HOURS", default_value_t = 12)]
    pub session_ttl_hours: u64,
    /// Minutes a session may go unused before it ends (each use renews it).
    #[arg(long, env = "LATCHKEY_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u64,
    /// Sign-in attempts per minute for one email.
    #[arg(
        long = "sign-in-per-email",
        env = "LATCHKEY_SIGN_IN_PER_EMAIL",
        default_value_t = 10
    )]
    pub sign_in_per_email_per_minute: u32,
    /// Sign-in attempts per minute from one client address.
    #[arg(
        long = "sign-in-per-ip",
        env = "LATCHKEY_SIGN_IN_PER_IP",
        default_value_t = 30
    )]
    pub sign_in_per_ip_per_minute: u32,
    /// Token the host product's services send (as Bearer) to `POST /v1/verify`; unset: off.
    #[arg(long, env = "LATCHKEY_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<String>,
    /// Requests per minute per key on the Professional plan.
    #[arg(long, env = "LATCHKEY_RATE_LIMIT_PROFESSIONAL", default_value_t = Plan::Professional.limits().requests_per_minute)]
    pub rate_limit_professional: u32,
    /// Requests per minute per key on the Enterprise plan.
    #[arg(long, env = "LATCHKEY_RATE_LIMIT_ENTERPRISE", default_value_t = Plan::Enterprise.limits().requests_per_minute)]
    pub rate_limit_enterprise: u32,
    /// Days a key's request log is kept before it is pruned.
    #[arg(
        long,
        env = "LATCHKEY_REQUEST_LOG_RETENTION_DAYS",
        default_value_t = 30
    )]
    pub request_log_retention_days: u32,
    /// Days audit events are kept; older ones are removed hourly as whole ranges behind a
    /// checkpoint (so `audit verify` still passes). Unset: kept forever.
    #[arg(long, env = "LATCHKEY_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// The most events the tenant-less audit log (failed sign-ins) keeps; the oldest go first.
    #[arg(
        long,
        env = "LATCHKEY_AUDIT_SYSTEM_MAX_EVENTS",
        default_value_t = 1_000_000
    )]
    pub audit_system_max_events: u64,
    /// How often usage (request log, last used) is written, in milliseconds.
    #[arg(long, env = "LATCHKEY_USAGE_FLUSH_MS", default_value_t = 1000)]
    pub usage_flush_ms: u64,
    /// Last-resort bound, in seconds, on a cached key's age. Changes reach every process at once
    /// (PostgreSQL NOTIFY, or SQLite's change table polled every 25 ms); a process that cannot
    /// hear them verifies from storage instead.
    #[arg(long, env = "LATCHKEY_KEY_CACHE_TTL_SECS", default_value_t = 10)]
    pub key_cache_ttl_secs: u64,
    /// Where per-key rate limits are counted: `local` (each process on its own: N replicas allow
    /// N times a plan's rate) or `redis://host:port` (one budget per key across every replica;
    /// while Redis does not answer, each process falls back to its local count and logs it).
    #[arg(long, env = "LATCHKEY_RATE_LIMIT_STORE", default_value = "local")]
    pub rate_limit_store: String,
    /// Milliseconds before the first attempt to LISTEN again after losing the PostgreSQL
    /// listener (doubling up to 5 s); meanwhile every key is verified from storage.
    #[arg(long, env = "LATCHKEY_LISTENER_RETRY_MS", default_value_t = 100)]
    pub listener_retry_ms: u64,
    /// Milliseconds between heartbeats on every `GET /v1/changes` stream. Clients serve cached
    /// allows only while they heard one within their lease (by default twice this).
    #[arg(long, env = "LATCHKEY_CHANGES_HEARTBEAT_MS", default_value_t = 250)]
    pub changes_heartbeat_ms: u64,
    /// Change streams this process serves at once; past it a new one is answered 503.
    #[arg(long, env = "LATCHKEY_CHANGES_MAX_STREAMS", default_value_t = 1000)]
    pub changes_max_streams: usize,
    /// Forward-auth (`/v1/authz`): the scope a forwarded request needs, as
    /// `METHOD /path=scope` (`*` for any method, a trailing `*` for any rest of the path, an
    /// empty scope for any valid key), e.g. `GET /payments/*=payments:read`. Repeatable, tried
    /// in order; in the environment, comma-separated.
    #[arg(
        long = "authz-rule",
        env = "LATCHKEY_AUTHZ_RULES",
        value_delimiter = ','
    )]
    pub authz_rules: Vec<latchkey_domain::authz::AuthzRule>,
    /// Serve Prometheus metrics at `/metrics` on this address (e.g. `127.0.0.1:9100`), apart
    /// from the app's public address; unset: no metrics are kept or served.
    #[arg(long, env = "LATCHKEY_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Failed verifications of well-formed keys per client address a minute before 429.
    #[arg(long, env = "LATCHKEY_FAILED_AUTH_PER_MINUTE", default_value_t = 120)]
    pub failed_auth_per_minute: u32,
    /// Seconds a client has to send a request's headers (slow clients are cut off).
    #[arg(long, env = "LATCHKEY_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "LATCHKEY_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Connections open at once; beyond it new ones are closed at once.
    #[arg(long, env = "LATCHKEY_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Seconds a new connection has to send its first byte before it is closed.
    #[arg(long, env = "LATCHKEY_FIRST_BYTE_TIMEOUT_SECS", default_value_t = 5)]
    pub first_byte_timeout_secs: u64,
    /// Seconds a connection may stay open with no request in flight (HTTP/1 keep-alive and
    /// HTTP/2 alike) before it is closed.
    #[arg(long, env = "LATCHKEY_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,
    /// Connections open at once from one client address (an IPv6 /64 counts as one); beyond
    /// it new ones are closed at once. `--trusted-proxy` addresses are not counted.
    #[arg(long, env = "LATCHKEY_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Milliseconds a webhook receiver has to answer before the attempt counts as failed.
    #[arg(long, env = "LATCHKEY_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Milliseconds before a failed webhook's first retry; each later one doubles (at most an
    /// hour, with jitter) until 24 hours have passed.
    #[arg(long, env = "LATCHKEY_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000)]
    pub webhook_retry_base_ms: u64,
    /// Milliseconds between looks at the webhook outbox when nothing wakes the worker.
    #[arg(long, env = "LATCHKEY_WEBHOOK_POLL_MS", default_value_t = 1_000)]
    pub webhook_poll_ms: u64,
    /// Seconds between scans for expiring, expired and unused keys.
    #[arg(long, env = "LATCHKEY_WEBHOOK_SCAN_SECS", default_value_t = 60)]
    pub webhook_scan_secs: u64,
    /// Let webhook endpoints point inside the server's network (loopback, private, link-local,
    /// CGNAT, ULA addresses, and names resolving to them). Off by default: tenant admins could
    /// otherwise probe the operator's internal services; `--demo` does not change it.
    #[arg(long, env = "LATCHKEY_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Webhook attempts in flight at once to one endpoint. 1 keeps each endpoint's events in
    /// order; more drains a busy receiver faster. A receiver that never answers holds this many
    /// of the worker's sending slots.
    #[arg(long, env = "LATCHKEY_WEBHOOK_PER_ENDPOINT", default_value_t = 1)]
    pub webhook_per_endpoint: u32,
    /// A PEM public key GitHub signs secret-scanning reports with: a report to `/v1/leaks`
    /// carrying `Github-Public-Key-Signature` must verify against one. Repeat for several.
    #[arg(
        long = "leak-report-key",
        env = "LATCHKEY_LEAK_REPORT_KEYS",
        value_delimiter = ','
    )]
    pub leak_report_keys: Vec<PathBuf>,
    /// Milliseconds every `/v1/leaks` answer takes at least (real keys and junk alike).
    #[arg(long, env = "LATCHKEY_LEAK_REPORT_FLOOR_MS", default_value_t = 500)]
    pub leak_report_floor_ms: u64,
    /// Tokens `/v1/leaks` acts on per client address a minute (an IPv6 /64; its /48 gets eight
    /// times as many); a report that would go over is answered 429.
    #[arg(
        long,
        env = "LATCHKEY_LEAK_REPORT_TOKENS_PER_MINUTE",
        default_value_t = store::keys::leak::TOKENS_PER_MINUTE
    )]
    pub leak_report_tokens_per_minute: u32,
    /// Leak reports acted on at once; past it a report is answered 429 before any work.
    #[arg(
        long,
        env = "LATCHKEY_LEAK_REPORTS_IN_FLIGHT",
        default_value_t = store::keys::leak::IN_FLIGHT
    )]
    pub leak_reports_in_flight: usize,
    #[command(flatten)]
    pub ways_in: super::WaysInArgs,
}

impl ServeArgs {
    /// Whether cookies are `Secure`: said outright, else what the public URL says, else only
    /// plain HTTP on loopback goes without.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| match &self.public_url {
                Some(url) => url.starts_with("https://"),
                None => !self.addr.ip().is_loopback(),
            })
    }

    pub fn audit_retention(&self) -> store::audit::retention::Retention {
        store::audit::retention::Retention {
            keep_for: self
                .audit_retention_days
                .map(|d| std::time::Duration::from_secs(u64::from(d.max(1)) * 86_400)),
            system_rows: self.audit_system_max_events.max(1),
        }
    }

    pub fn http_limits(&self) -> crate::http::HttpLimits {
        use std::time::Duration;
        crate::http::HttpLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            first_byte_timeout: Duration::from_secs(self.first_byte_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections_per_ip: self.max_connections_per_ip.max(1),
            per_ip_exempt: self.trusted_proxies.clone(),
        }
    }
}
