//! The operator API's subcommands: tokens, requirements, resources (tenants and members are
//! beside the older commands in `mod.rs`).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum OperatorTokenCommand {
    /// Create a token and print it once.
    Create {
        /// Its name, audited as `operator:<name>`.
        #[arg(long)]
        name: String,
        /// What it may do (repeat); none: every scope.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name or id, at once.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum RequirementCommand {
    /// Add or update one requirement (the rest stay).
    Set {
        /// Tenant (external id, `org_…` id or slug).
        #[arg(long)]
        tenant: String,
        /// The requirement's id.
        id: String,
        /// What people see, e.g. "KYB review complete".
        #[arg(long)]
        label: Option<String>,
        /// Whether it is met.
        #[arg(long, action = clap::ArgAction::Set, default_value_t = false)]
        met: bool,
    },
    /// Remove one requirement.
    Remove {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// List a tenant's requirements.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Add or rename a resource.
    Put {
        #[arg(long)]
        tenant: String,
        /// A declared type (`--resource-type`).
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Remove a resource (and it from every key limited to it).
    Remove {
        #[arg(long)]
        tenant: String,
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        id: String,
    },
    /// List a tenant's resources.
    List {
        #[arg(long)]
        tenant: String,
    },
}
