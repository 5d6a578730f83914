//! A host API that verifies its callers' Latchkey keys in process with `latchkey-client`:
//! `GET /payments` needs `payments:read`, `POST /payments` needs `payments:write`. Answers come
//! from the verdict cache while the change stream holds its lease; a key revoked in Latchkey is
//! refused here within about 100 ms.
//!
//! ```text
//! LATCHKEY_URL=http://127.0.0.1:3000 LATCHKEY_SERVICE_TOKEN=… cargo run -p host-service
//! curl -H "Authorization: Bearer lk_live_…" http://127.0.0.1:4000/payments
//! ```

use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use latchkey_client::{RateLimit, RequireKey, Verdict, Verifier};
use std::net::SocketAddr;

#[derive(Debug, Parser)]
#[command(about = "A small API whose callers present Latchkey keys")]
struct Args {
    /// Where Latchkey answers.
    #[arg(long, env = "LATCHKEY_URL", default_value = "http://127.0.0.1:3000")]
    latchkey_url: String,
    /// Latchkey's service token (its `LATCHKEY_SERVICE_TOKEN`).
    #[arg(long, env = "LATCHKEY_SERVICE_TOKEN", hide_env_values = true)]
    service_token: String,
    /// Address to listen on.
    #[arg(long, env = "HOST_ADDR", default_value = "127.0.0.1:4000")]
    addr: SocketAddr,
    /// `remote`: ask Latchkey's `/v1/verify` on every request instead of the cache.
    #[arg(long, env = "HOST_VERIFY", default_value = "cache")]
    verify: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let rate_limit = if args.verify == "remote" {
        RateLimit::Remote
    } else {
        RateLimit::Local
    };
    let verifier = Verifier::builder(&args.latchkey_url, &args.service_token)
        .rate_limit(rate_limit)
        .build()?;
    let app = Router::new()
        .route(
            "/payments",
            get(list).layer(RequireKey::scope("payments:read").with(verifier.clone())),
        )
        .route(
            "/payments",
            axum::routing::post(create)
                .layer(RequireKey::scope("payments:write").with(verifier.clone())),
        )
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, latchkey = %args.latchkey_url, "host service listening");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn list(verdict: Verdict) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "tenant": verdict.tenant.id,
        "key_id": verdict.key_id,
        "payments": [],
    }))
}

async fn create(verdict: Verdict) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "created_by": verdict.key_id }))
}
