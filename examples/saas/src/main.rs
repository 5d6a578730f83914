//! The example SaaS: a stand-in for the product that puts Latchkey in front of its customers.
//! It signs its own users in, keeps its tenant and users in step with Latchkey through the
//! operator API (`/v1/admin`), and its "API keys" link mints a one-time portal link for the
//! signed-in user and redirects there, so they reach Latchkey without a second password.

mod latchkey;
mod pages;
mod sessions;

use clap::Parser;
use std::net::SocketAddr;
use std::sync::Arc;

/// The one demo user of the example (a real SaaS has its own user store).
pub const DEMO_EMAIL: &str = "alice@example.test";
pub const DEMO_PASSWORD: &str = "acme-demo-password";
pub const DEMO_NAME: &str = "Alice Example";
/// Her id in the SaaS, the `external_user_id` Latchkey knows her by.
pub const DEMO_USER_ID: &str = "alice";
/// The SaaS's customer she works for, the tenant's `external_id` in Latchkey.
pub const TENANT_ID: &str = "acme-saas-demo";
pub const TENANT_NAME: &str = "Acme SaaS demo workspace";

#[derive(Debug, Parser)]
#[command(name = "saas-example", about = "A tiny SaaS that embeds Latchkey")]
struct Args {
    /// Where this example listens.
    #[arg(long, env = "SAAS_ADDR", default_value = "127.0.0.1:4000")]
    addr: SocketAddr,
    /// Latchkey's base URL, for the operator API and the portal links it mints.
    #[arg(
        long,
        env = "SAAS_LATCHKEY_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    latchkey_url: String,
    /// An operator token (`latchkey operator-token create`), `lko_…`. Prefer the environment
    /// variable: a flag shows in the process list.
    #[arg(long, env = "SAAS_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
}

/// What every handler shares.
pub struct Shared {
    pub latchkey: latchkey::Client,
    pub sessions: sessions::Sessions,
    /// This SaaS's own origin: where "← Back to Acme SaaS" returns.
    pub origin: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let shared = Arc::new(Shared {
        latchkey: latchkey::Client::new(&args.latchkey_url, &args.operator_token)?,
        sessions: sessions::Sessions::default(),
        origin: origin.clone(),
    });
    tracing::info!(
        url = %origin,
        email = DEMO_EMAIL,
        password = DEMO_PASSWORD,
        latchkey = %args.latchkey_url,
        "the example SaaS is up: open the URL and sign in with the email and password"
    );
    axum::serve(listener, pages::router(shared))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
