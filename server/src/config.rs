//! Command line and environment: every setting is a `--flag` with a `LATCHKEY_*` variable.

use clap::{Args, Parser, Subcommand};
use latchkey_domain::keys::Mode;
use latchkey_domain::views::Overlap;
use latchkey_domain::{Plan, Role};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "API key management for multi-tenant SaaS"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Where the SQLite database and the generated pepper live.
    #[arg(long, global = true, env = "LATCHKEY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to SQLite in the data directory.
    /// `DATABASE_URL` is read too when this is unset.
    #[arg(long, global = true, env = "LATCHKEY_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Hex pepper (at least 32 bytes) for API key digests; otherwise generated into the data dir.
    #[arg(long, global = true, env = "LATCHKEY_PEPPER", hide_env_values = true)]
    pub pepper: Option<String>,
    /// Extra scopes for the host product's catalogue, each optionally with the one line the
    /// pages show for it: `reports:read=Read usage reports` (a default scope may be reworded
    /// the same way). Repeat or comma-separate (so a description holds no comma).
    #[arg(
        long = "catalogue-scope",
        global = true,
        env = "LATCHKEY_SCOPES",
        value_delimiter = ','
    )]
    pub extra_scopes: Vec<String>,
    /// Log format: `pretty` for people, `json` for collectors.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_LOG_FORMAT",
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
    /// Log filter, in `tracing` env-filter syntax.
    #[arg(long, global = true, env = "LATCHKEY_LOG", default_value = "info")]
    pub log: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Global {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| format!("sqlite://{}/latchkey.db", self.data_dir.display()))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the admin UI, server functions and API.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage memberships.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage API keys as the operator (audited as `operator`).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Export, verify and prune the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write a tenant's events (newest first) as CSV to stdout; recorded as `audit.exported`.
    Export {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// A key's id or name.
        #[arg(long, default_value = "")]
        key: String,
        #[arg(long, default_value = "")]
        actor: String,
        /// An action name, e.g. api_key.revoked.
        #[arg(long, default_value = "")]
        action: String,
        /// First UTC day, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        from: String,
        /// Last UTC day, YYYY-MM-DD.
        #[arg(long, default_value = "")]
        to: String,
    },
    /// Walk the hash chains (every tenant's and the tenant-less log, or one tenant's) and
    /// report the first broken link; exits non-zero if any chain is broken.
    Verify {
        /// Tenant slug; default: every chain.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Apply retention once, as `serve` does hourly.
    Prune {
        /// Remove events older than this many days.
        #[arg(long)]
        older_than_days: Option<u32>,
        /// The most events the tenant-less log keeps.
        #[arg(long, default_value_t = 1_000_000)]
        system_max_events: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print its secret once.
    Create {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, default_value = "test", value_parser = parse_mode)]
        mode: Mode,
        /// Scope to grant; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Allowed address or CIDR; repeat for several. None allows any address.
        #[arg(long = "allow")]
        allow: Vec<String>,
        /// Last day (UTC, YYYY-MM-DD) the key works.
        #[arg(long, default_value = "")]
        expires_on: String,
    },
    /// List a tenant's keys (never their secrets).
    List {
        #[arg(long)]
        tenant: String,
        /// Include revoked keys.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a key by its id; it stops working on its next request.
    Revoke {
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Roll a key: print a replacement's secret once; the old key works for the overlap.
    Roll {
        id: String,
        /// How long the old key keeps working: now, 1h, 24h or 7d.
        #[arg(long, default_value = "24h", value_parser = parse_overlap)]
        overlap: Overlap,
    },
    /// Disable a key (reversible: `key enable`); it is refused from its next request.
    Disable { id: String },
    /// Enable a disabled key again.
    Enable { id: String },
}

fn parse_overlap(s: &str) -> Result<Overlap, String> {
    s.parse()
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse()
        .map_err(|_| "mode must be live or test".to_owned())
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Seed the demo tenants and users on first start and print their sign-ins.
    #[arg(long, env = "LATCHKEY_DEMO")]
    pub demo: bool,
    /// Directory with the built site (`pkg/`); cargo-leptos's `LEPTOS_SITE_ROOT` is read too.
    #[arg(long, env = "LATCHKEY_SITE_ROOT")]
    pub site_root: Option<String>,
    /// The URL people open, e.g. `https://keys.example.com` behind a TLS proxy. An `https`
    /// URL makes cookies `Secure` (named `__Host-lk_session`) and turns on HSTS, whatever
    /// address the server itself listens on.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
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
    /// (PostgreSQL NOTIFY, or SQLite's change table polled every 200 ms); a process that cannot
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
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "professional", value_parser = parse_plan)]
        plan: Plan,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in with email and password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The password; prefer the environment variable so it stays out of shell history.
        #[arg(long, env = "LATCHKEY_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print a single-use password-reset link (valid 24 hours), shown once.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// Where Latchkey is served, for the link.
        #[arg(long, env = "LATCHKEY_PUBLIC_URL", default_value = "http://127.0.0.1:3000", value_parser = parse_public_url)]
        public_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a user to a tenant with a role (or change their role).
    Add {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// User email.
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Remove a user from a tenant.
    Remove {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// User email.
        #[arg(long)]
        email: String,
    },
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let uri: axum::http::Uri = s.parse().map_err(|e| format!("not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https" | "http"), Some(_)) => Ok(s.trim_end_matches('/').to_owned()),
        _ => Err("the public URL must look like https://keys.example.com".to_owned()),
    }
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    s.parse()
        .map_err(|e: latchkey_domain::policy::ParseEnumError| e.to_string())
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: latchkey_domain::policy::ParseEnumError| e.to_string())
}
