//! The Latchkey server: configuration, the axum router (SSR, server functions, health), and
//! start-up (database, pepper, demo seed). `main.rs` only parses the command line.
// Builds that do not erase component types (the bench harness, plain `cargo build`) nest the
// pages' view types deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod audit_export;
pub mod config;
mod database;
pub mod headers;
mod health;
pub mod http;
mod oidc;
mod portal;
pub mod site;
pub mod telemetry;
pub mod v1;

pub use database::{claim_sqlite, connect};

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use latchkey_domain::error::AppError;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::sync::Arc;
use store::AppState;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// The PEM files named by `--leak-report-key`, parsed (a bad one stops the start).
fn leak_report_keys(
    paths: &[std::path::PathBuf],
) -> anyhow::Result<store::keys::leak_signature::ReportKeys> {
    let pems = paths
        .iter()
        .map(|p| {
            anyhow::Context::with_context(std::fs::read_to_string(p), || {
                format!("--leak-report-key {}", p.display())
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    store::keys::leak_signature::ReportKeys::from_pems(pems.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("--leak-report-key: {e}"))
}

/// The router's state: the app's state (handed to server functions through the context and to
/// `/v1` handlers by `FromRef`) and the options leptos_axum reads. Every field is a cheap handle.
#[derive(Clone)]
pub struct RouterState {
    pub app: AppState,
    pub leptos: Arc<LeptosOptions>,
}

impl FromRef<RouterState> for AppState {
    fn from_ref(s: &RouterState) -> Self {
        s.app.clone()
    }
}

impl FromRef<RouterState> for LeptosOptions {
    fn from_ref(s: &RouterState) -> Self {
        (*s.leptos).clone()
    }
}

/// Builds the whole HTTP surface around one `AppState`.
pub fn router(state: AppState, options: LeptosOptions) -> Router {
    let routes = generate_route_list(app::App);
    let ctx = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            headers::set_page_policy();
        }
    };
    let shell = {
        let options = options.clone();
        move || app::shell(options.clone())
    };
    let state = RouterState {
        app: state,
        leptos: Arc::new(options),
    };
    let site = Router::new()
        .merge(site::assets(std::path::Path::new(&*state.leptos.site_root)))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/audit/export.csv", get(audit_export::export))
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/callback", get(oidc::callback))
        .route(
            "/api/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .leptos_routes_with_context(&state, routes, ctx.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            RouterState,
            _,
        >(ctx, app::shell))
        // On the body itself, so it holds for server functions, which read their own (413).
        .layer(RequestBodyLimitLayer::new(http::BODY_LIMIT))
        .layer(middleware::from_fn(guard_server_fns))
        .layer(middleware::from_fn_with_state(
            state.app.clone(),
            portal::refresh_ended,
        ))
        .layer(middleware::from_fn_with_state(
            state.app.clone(),
            headers::site,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(telemetry::time_site));
    // `/v1` sits outside the site's layers: it has its own envelope (request ids, JSON errors)
    // and its answers are small, so per-request tracing and compression would only cost
    // (measured: about 6 µs of server CPU per call, a fifth of a verified request).
    let api = v1::router(state.app.clone()).with_state(state.app.clone());
    Router::new()
        .route("/livez", get(health::livez))
        .merge(api)
        .merge(site.with_state(state))
}

async fn server_fn_handler(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}

/// Around every server function: refuse cross-site state changes before they run, and answer
/// errors with the status their `AppError` stands for instead of a blanket 500.
async fn guard_server_fns(req: Request, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/api/");
    if !is_server_fn {
        return next.run(req).await;
    }
    // An unknown function is a plain 404, not the framework's advice on how to register one.
    let path = req.uri().path();
    if !leptos::server_fn::axum::server_fn_paths().any(|(p, _)| p == path) {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    if req.method() != Method::GET && store::request::is_cross_site(req.headers()) {
        tracing::warn!(path = %req.uri().path(), "refused cross-site request");
        return error_response(&AppError::Forbidden);
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return error_response(&AppError::Internal);
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let AppError::Transport(detail) = &err {
            // The arguments did not decode: the caller's mistake, said without parser detail.
            tracing::info!(%detail, "server function input refused");
            let mut res = error_response(&AppError::field(
                "request",
                "The request could not be read. Reload the page and try again.",
            ));
            *res.status_mut() = StatusCode::BAD_REQUEST;
            return res;
        }
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::RateLimited { retry_after_secs } = err {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn error_response(err: &AppError) -> Response {
    let body = serde_json::to_vec(err).unwrap_or_default();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() =
        StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert("serverfnerror", HeaderValue::from_static("1"));
    res
}

/// The options leptos_axum serves the site with (where the built wasm, js and css live).
pub fn leptos_options(args: &config::ServeArgs) -> LeptosOptions {
    let site_root = args
        .site_root
        .clone()
        .or_else(|| std::env::var("LEPTOS_SITE_ROOT").ok())
        .unwrap_or_else(|| "target/site".to_owned());
    let pkg_dir = site::pkg_dir(std::path::Path::new(&site_root));
    LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site_root)
        .site_pkg_dir(pkg_dir)
        .site_addr(args.addr)
        .build()
}

/// Connects, migrates, loads the pepper and builds the state: everything `serve` needs.
pub async fn build_state(
    global: &config::Global,
    args: &config::ServeArgs,
) -> anyhow::Result<AppState> {
    use anyhow::Context;
    use std::time::Duration;
    use store::Settings;

    // Checked before anything is created: a guessable token would open `POST /v1/verify`.
    const SERVICE_TOKEN_MIN_BYTES: usize = 32;
    let service_token = args
        .service_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(t) = service_token {
        if t.len() < SERVICE_TOKEN_MIN_BYTES {
            anyhow::bail!(
                "the service token (--service-token / LATCHKEY_SERVICE_TOKEN) is {} bytes; it must \
                 be at least {SERVICE_TOKEN_MIN_BYTES} bytes (e.g. `openssl rand -hex 32`)",
                t.len()
            );
        }
    }
    let mailer = match &args.smtp_url {
        Some(_) if args.public_url.is_none() => anyhow::bail!(
            "--smtp-url needs --public-url: mailed invitation links must say where Latchkey is"
        ),
        Some(url) => {
            Some(store::mail::Mailer::from_url(url, &args.mail_from).context("--smtp-url")?)
        }
        None => None,
    };
    let rate_limit_store = store::verify::check_rate_store(&args.rate_limit_store)
        .map_err(|e| anyhow::anyhow!("--rate-limit-store: {e}"))?;
    let leak_report_keys = leak_report_keys(&args.leak_report_keys)?;
    let db = connect(global).await?;
    let pepper = pepper(global, &db).await?;
    let catalogue = scope_catalogue(global)?;
    if let Some(problem) =
        config::framing_problem(&args.ways_in.frame_ancestors, args.public_url.as_deref())
    {
        tracing::warn!("{problem}");
    }
    let settings = Settings {
        insecure_cookies: !args.secure_cookies(),
        session_ttl: Duration::from_secs(args.session_ttl_hours.max(1) * 3600),
        session_idle: Duration::from_secs(args.session_idle_minutes.max(1) * 60),
        trusted_proxies: args.trusted_proxies.clone(),
        sign_in_per_email_per_minute: args.sign_in_per_email_per_minute,
        sign_in_per_ip_per_minute: args.sign_in_per_ip_per_minute,
        scope_catalogue: catalogue,
        scope_descriptions: scope_descriptions(global),
        limits: store::limits::Limits {
            professional_rpm: args.rate_limit_professional,
            enterprise_rpm: args.rate_limit_enterprise,
        },
        service_token_sha256: service_token.map(|t| {
            use sha2::Digest as _;
            sha2::Sha256::digest(t.as_bytes()).into()
        }),
        request_log_retention: Duration::from_secs(
            u64::from(args.request_log_retention_days.max(1)) * 86_400,
        ),
        usage_flush_interval: Duration::from_millis(args.usage_flush_ms.max(10)),
        key_cache_ttl: Duration::from_secs(args.key_cache_ttl_secs.max(1)),
        rate_limit_store,
        listener_retry: Duration::from_millis(args.listener_retry_ms),
        failed_auth_per_minute: args.failed_auth_per_minute,
        audit_retention: args.audit_retention(),
        public_url: args.public_url.clone(),
        mailer,
        webhooks: store::webhooks::DispatcherConfig {
            timeout: Duration::from_millis(args.webhook_timeout_ms.max(100)),
            retry_base: Duration::from_millis(args.webhook_retry_base_ms.max(10)),
            poll: Duration::from_millis(args.webhook_poll_ms.max(10)),
            scan_every: Duration::from_secs(args.webhook_scan_secs.max(1)),
            allow_private: args.webhook_allow_private,
            per_endpoint: i64::from(args.webhook_per_endpoint.max(1)),
            ..Default::default()
        },
        leak_report_keys,
        leak_report_floor: Duration::from_millis(args.leak_report_floor_ms),
        leak_tokens_per_minute: args.leak_report_tokens_per_minute.max(1),
        leak_reports_in_flight: args.leak_reports_in_flight.max(1),
        resource_types: global.resource_types.clone(),
        billing_url: args.billing_url.clone(),
        portal: store::portal::PortalSettings {
            return_origins: args.ways_in.portal_return_origins.clone(),
            refresh_url: args.ways_in.portal_refresh_url.clone(),
            session_ttl: Duration::from_secs(args.ways_in.portal_session_ttl_minutes.max(1) * 60),
            session_idle: Duration::from_secs(args.ways_in.portal_session_idle_minutes.max(1) * 60),
            product_name: args.ways_in.product_name.clone(),
        },
        oidc: args.ways_in.oidc()?,
        password_sign_in: args.ways_in.password_sign_in,
        frame_ancestors: args.ways_in.frame_ancestors.clone(),
        gateway: store::state::GatewaySettings {
            changes_heartbeat: Duration::from_millis(args.changes_heartbeat_ms.clamp(10, 60_000)),
            changes_max_streams: args.changes_max_streams.max(1),
            authz_rules: args.authz_rules.clone(),
        },
    };
    let state = AppState::new(db, settings, pepper);
    if args.demo {
        let created = store::demo::seed_demo(&state.db)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo failed: {e}"))
            .context("demo seed")?;
        tracing::info!(created, "demo data ready");
        if args.demo_samples {
            let samples = store::demo::seed_demo_samples(
                &state.db,
                &state.pepper,
                &state.settings.scope_catalogue,
            )
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo samples failed: {e}"))
            .context("demo samples")?;
            tracing::info!(samples, "demo sample keys ready");
        }
    }
    Ok(state)
}

/// The pepper from config or the data directory, refused unless it is the one the database's
/// keys were stored with (every replica and the CLI must share it).
pub async fn pepper(
    global: &config::Global,
    db: &store::db::Db,
) -> anyhow::Result<latchkey_domain::keys::Pepper> {
    use anyhow::Context;
    let pepper = store::pepper::load_or_create(global.pepper.as_deref(), &global.data_dir)?;
    store::pepper::check_against_storage(db, &pepper)
        .await
        .context("checking the pepper")?;
    Ok(pepper)
}

/// `connect`, then the pepper, which also loads the audit chain's key: for the commands that
/// write or check audit events (`migrate` alone never needs the pepper).
pub async fn connect_keyed(global: &config::Global) -> anyhow::Result<store::db::Db> {
    let db = connect(global).await?;
    pepper(global, &db).await?;
    Ok(db)
}

/// The default scope catalogue plus the operator's own scopes.
pub fn scope_catalogue(global: &config::Global) -> anyhow::Result<Vec<String>> {
    let mut catalogue: Vec<String> = latchkey_domain::scopes::DEFAULT_CATALOGUE
        .iter()
        .map(|s| s.to_string())
        .collect();
    for s in &global.extra_scopes {
        let s = s
            .split_once('=')
            .map_or(s.as_str(), |(name, _)| name)
            .trim();
        if !latchkey_domain::scopes::is_well_formed(s) {
            anyhow::bail!("scope {s:?} must look like resource:action");
        }
        if !catalogue.iter().any(|c| c == s) {
            catalogue.push(s.to_owned());
        }
    }
    Ok(catalogue)
}

/// What each scope grants: the defaults', then the operator's (`name=description`), which may
/// also reword a default scope.
pub fn scope_descriptions(global: &config::Global) -> std::collections::BTreeMap<String, String> {
    let mut out: std::collections::BTreeMap<String, String> =
        latchkey_domain::scopes::DEFAULT_DESCRIPTIONS
            .iter()
            .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
            .collect();
    for s in &global.extra_scopes {
        if let Some((name, description)) = s.split_once('=') {
            out.insert(name.trim().to_owned(), description.trim().to_owned());
        }
    }
    out
}

/// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn serve(
    state: AppState,
    options: LeptosOptions,
    addr: std::net::SocketAddr,
    limits: http::HttpLimits,
    metrics_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(url = %format!("http://{local}"), "listening");
    if let Some(metrics_addr) = metrics_addr {
        telemetry::serve(metrics_addr, state.clone()).await?;
    }
    let verifier = state.verifier.clone();
    http::serve(listener, router(state, options), limits, shutdown_signal()).await?;
    // Usage still queued in memory is written before we go.
    verifier.usage.flush().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
