//! Command line and environment: every setting is a `--flag` with a `LATCHKEY_*` variable.

use clap::{Args, Parser, Subcommand};
use latchkey_domain::keys::Mode;
use latchkey_domain::views::Overlap;
use latchkey_domain::{Plan, Role};
use std::path::PathBuf;

mod operator;
mod serve;
mod ways_in;
pub use operator::{OperatorTokenCommand, RequirementCommand, ResourceCommand};
pub use serve::ServeArgs;
pub use ways_in::{framing_problem, WaysInArgs};

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
    /// Resource types keys can be limited to, `account=Bank account` (the operator API's
    /// `/resources/{type}/…`). Repeat or comma-separate.
    #[arg(
        long = "resource-type",
        global = true,
        env = "LATCHKEY_RESOURCE_TYPES",
        value_delimiter = ','
    )]
    pub resource_types: Vec<latchkey_domain::operator::ResourceType>,
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
    /// Tokens the SaaS backend calls `/v1/admin` with.
    #[command(subcommand, name = "operator-token")]
    OperatorToken(OperatorTokenCommand),
    /// A tenant's minting gates (what must be done before keys can be created).
    #[command(subcommand)]
    Requirement(RequirementCommand),
    /// Resources keys can be limited to.
    #[command(subcommand)]
    Resource(ResourceCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write a tenant's events (newest first) as CSV to stdout; recorded as `audit.exported`.
    Export {
        /// Tenant: its slug, `org_…` id or the SaaS's external id.
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
        /// Tenant (slug, `org_…` id or external id); default: every chain.
        #[arg(long)]
        tenant: Option<String>,
        /// Also check an anchor file (`audit anchor --out`): every anchored link must still be
        /// in its chain, or be covered by a checkpoint a prune wrote.
        #[arg(long, value_name = "FILE")]
        against: Option<std::path::PathBuf>,
    },
    /// Copy each chain's newest link (tenant, place, MAC) out of the database, one JSON line per
    /// chain, so a copy kept elsewhere can later prove nothing before it changed.
    Anchor {
        /// Append the lines to this file instead of printing them.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
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
        /// Tenant: its slug, `org_…` id or the SaaS's external id.
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
    /// Create or update the tenant with the SaaS's id (`PUT /v1/admin/tenants/{id}`): the
    /// whole state, a flag left out is its default.
    Put {
        /// The SaaS's id for the tenant.
        #[arg(long)]
        external_id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "professional", value_parser = parse_plan)]
        plan: Plan,
        #[arg(long)]
        max_keys: Option<u32>,
        #[arg(long)]
        rate_per_minute: Option<u32>,
        /// A JSON object of at most 1 KiB.
        #[arg(long)]
        metadata: Option<String>,
        /// Suspend it: every key refused.
        #[arg(long)]
        suspended: bool,
    },
    /// Show a tenant (by external id, `org_…` id or slug).
    Show { tenant: String },
    /// List tenants.
    List,
    /// Delete a tenant: every key revoked, every session ended; the audit log stays.
    Delete { tenant: String },
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
    /// Add or update a member keyed by the SaaS's user id (`PUT …/members/{id}`).
    Put {
        /// Tenant (external id, `org_…` id or slug).
        #[arg(long)]
        tenant: String,
        /// The SaaS's user id.
        #[arg(long)]
        external_id: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Add a user to a tenant with a role (or change their role).
    Add {
        /// Tenant: its slug, `org_…` id or the SaaS's external id.
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
        /// Tenant: its slug, `org_…` id or the SaaS's external id.
        #[arg(long)]
        tenant: String,
        /// User email.
        #[arg(long)]
        email: String,
    },
}

pub(crate) fn parse_public_url(s: &str) -> Result<String, String> {
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
