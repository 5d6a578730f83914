//! The operator's subcommands beside `serve`: each calls `store` with `Actor::operator()`, so
//! they get the same validation, plan limits and audit events as the UI.

pub mod audit;
pub mod keys;
pub mod operator;

use latchkey_domain::error::AppError;
use std::io::Write;

/// Operator output (results, the demo banner) goes to stdout; logs go to stderr.
pub fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

pub fn app_err(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(errs) => anyhow::anyhow!(
            "{}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The tenant a command names by slug, public id (`org_…`) or the SaaS's external id.
pub async fn tenant_by_slug(
    db: &store::db::Db,
    name: &str,
) -> anyhow::Result<(i64, latchkey_domain::Plan)> {
    let t = operator::tenant(db, name).await?;
    Ok((t.id, t.plan))
}
