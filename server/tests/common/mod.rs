//! Test harness: a fresh database per test on every available engine, the real router, and
//! helpers to call server functions the way a browser does.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use latchkey_domain::keys::{random_base62, Pepper};
use std::future::Future;
use std::time::Duration;
use store::db::Db;
use store::{AppState, Settings};
use tower::ServiceExt;

pub mod operator;
pub mod portal;
pub mod proxy;
pub mod receiver;
pub mod replica;

pub const PASSWORD: &str = store::demo::DEMO_PASSWORD;

/// A JSON body as an HTML form posts it, in the bracket form server functions read (serde_qs):
/// `new[name]`, and a list of strings as the form's checkboxes send it, `new[scopes][]` once
/// per item.
fn flatten(key: String, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    let nested = |k: &str| {
        if key.is_empty() {
            k.to_owned()
        } else {
            format!("{key}[{k}]")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(nested(k), v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    serde_json::Value::Object(_) => flatten(format!("{key}[{i}]"), item, out),
                    _ => flatten(format!("{key}[]"), item, out),
                }
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push((key, s.clone())),
        other => out.push((key, other.to_string())),
    }
}

/// Server functions that plain HTML forms post to: their input is a form, not JSON.
pub const FORM_INPUT: &[&str] = &[
    "account/change_password",
    "keys/set_enabled",
    "members/invite",
    "keys/create",
    "keys/update",
    "keys/revoke",
    "keys/roll",
    "account/reset_password",
    "invite/accept_new",
    "invite/accept",
    "invite/panel",
    "portal/redeem",
    "webhooks/create",
    "webhooks/update",
    "webhooks/roll_secret",
    "webhooks/remove",
    "webhooks/test",
    "members/change_role",
    "members/remove",
    "members/revoke_invite",
    "webhooks/key_safety",
];

/// The server functions that act on a tenant, and so carry it.
pub const TENANT_SCOPED: &[&str] = &[
    "billing",
    "change_plan",
    "keys/list",
    "keys/get",
    "keys/create",
    "keys/update",
    "keys/revoke",
    "keys/requests",
    "keys/roll",
    "keys/set_enabled",
    "audit/list",
    "members/list",
    "members/invite",
    "members/change_role",
    "members/remove",
    "members/revoke_invite",
    "webhooks/list",
    "webhooks/create",
    "webhooks/update",
    "webhooks/roll_secret",
    "webhooks/remove",
    "webhooks/test",
    "webhooks/key_safety",
];

/// One engine to run a scenario on.
#[derive(Debug, Clone)]
pub enum Engine {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` names a server.
pub fn engines() -> Vec<Engine> {
    let mut v = vec![Engine::Sqlite];
    if let Ok(url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        if !url.is_empty() {
            v.push(Engine::Postgres(url));
        }
    }
    v
}

pub struct TestApp {
    pub state: AppState,
    pub options: leptos::config::LeptosOptions,
    pub router: Router,
    pub engine: String,
    /// The database URL (for running the binary against the same database).
    pub url: String,
    cleanup: Option<(String, String)>,
}

impl TestApp {
    pub async fn new(engine: &Engine) -> Self {
        Self::with_settings(engine, |_| {}).await
    }

    pub async fn with_settings(engine: &Engine, tweak: impl FnOnce(&mut Settings)) -> Self {
        // Errors the server logs (the cause behind a 500) show in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_TEST_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
            )
            .try_init();
        let name = format!("lk_t_{}", random_base62(12).to_lowercase());
        let (url, cleanup, label) = match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join("latchkey-tests");
                std::fs::create_dir_all(&dir).unwrap();
                (
                    format!("sqlite://{}/{name}.db", dir.display()),
                    None,
                    "sqlite".to_owned(),
                )
            }
            Engine::Postgres(admin_url) => {
                let admin = Db::connect(admin_url).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin.pool)
                    .await
                    .unwrap();
                admin.pool.close().await;
                let base = admin_url.rsplit_once('/').unwrap().0;
                (
                    format!("{base}/{name}"),
                    Some((admin_url.clone(), name.clone())),
                    "postgres".to_owned(),
                )
            }
        };
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        // The seed writes audit events, sealed with the key from the apps' pepper.
        store::audit::seal::install(&Pepper::new(vec![7; 32]).unwrap());
        store::demo::seed_demo(&db).await.unwrap();
        let mut settings = Settings {
            insecure_cookies: true,
            session_ttl: Duration::from_secs(3600),
            trusted_proxies: vec![],
            sign_in_per_email_per_minute: 5,
            sign_in_per_ip_per_minute: 1000,
            ..Settings::default()
        };
        tweak(&mut settings);
        let options = leptos::config::LeptosOptions::builder()
            .output_name("latchkey")
            .site_root("target/site")
            .build();
        let state = AppState::new(db, settings, Pepper::new(vec![7; 32]).unwrap());
        // The cache is trusted only once this process hears invalidations (at once on SQLite,
        // after LISTEN on PostgreSQL); tests about caching start from there.
        assert!(
            state.verifier.wait_listening(Duration::from_secs(10)).await,
            "the invalidation listener did not start"
        );
        let router = server::router(state.clone(), options.clone());
        Self {
            state,
            options,
            router,
            engine: label,
            url,
            cleanup,
        }
    }

    pub async fn close(self) {
        // `close` waits for every checked-out connection. Once in a few hundred runs one never
        // came back (seen on SQLite, test threads idle): bounded, so a stuck cleanup cannot
        // hang the suite; the test's assertions have all run by now.
        if tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.state.db.pool.close(),
        )
        .await
        .is_err()
        {
            eprintln!("the test database's pool did not close within 10 s; going on");
        }
        if let Some((admin_url, name)) = self.cleanup {
            let admin = Db::connect(&admin_url).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin.pool)
                .await;
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// POSTs a server function as the hydrated page does (same-origin, form-encoded).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Resp {
        self.call_with(endpoint, form, cookie, &[("sec-fetch-site", "same-origin")])
            .await
    }

    /// Tenant-scoped server functions carry the tenant the page was drawn for; unless a test
    /// names one (`tenant`), this adds the session's current tenant, as the page would.
    pub async fn call_with(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let tenant;
        let mut form = form.to_vec();
        if TENANT_SCOPED.contains(&endpoint) && !form.iter().any(|(k, _)| *k == "tenant") {
            tenant = self.page_tenant(cookie).await.to_string();
            form.push(("tenant", &tenant));
        }
        self.post_form(endpoint, &form, cookie, extra).await
    }

    /// The tenant a page drawn now for this cookie would carry (0 when signed out).
    pub async fn page_tenant(&self, cookie: Option<&str>) -> i64 {
        let r = self
            .post_form("session", &[], cookie, &[("sec-fetch-site", "same-origin")])
            .await;
        r.json()["tenant_id"].as_i64().unwrap_or(0)
    }

    async fn post_form(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let body = serde_urlencoded(form);
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "127.0.0.1:3000");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// POSTs a form-input server function (one a plain form posts to) with the fields of a flat
    /// JSON object, so a test reads like its `call_json` neighbours.
    pub async fn call_flat(
        &self,
        endpoint: &str,
        body: serde_json::Value,
        cookie: Option<&str>,
    ) -> Resp {
        let mut fields = Vec::new();
        flatten(String::new(), &body, &mut fields);
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.call(endpoint, &form, cookie).await
    }

    /// POSTs a JSON-input server function (the key functions) as the hydrated page does (those in
    /// [`FORM_INPUT`] as the plain form does),
    /// with the page's tenant added as `call_with` does.
    pub async fn call_json(
        &self,
        endpoint: &str,
        mut body: serde_json::Value,
        cookie: Option<&str>,
    ) -> Resp {
        if FORM_INPUT.contains(&endpoint) {
            return self.call_flat(endpoint, body, cookie).await;
        }
        if let Some(obj) = body.as_object_mut() {
            if TENANT_SCOPED.contains(&endpoint) && !obj.contains_key("tenant") {
                obj.insert("tenant".into(), self.page_tenant(cookie).await.into());
            }
        }
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "127.0.0.1:3000")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let mut req = Request::get(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Signs in and returns the `Cookie` header value for the session.
    pub async fn sign_in(&self, email: &str) -> String {
        let r = self
            .call("sign_in", &[("email", email), ("password", PASSWORD)], None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "sign in {email}: {}", r.body);
        let set = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("lk_session="))
            .expect("session cookie");
        set.split(';').next().unwrap().to_owned()
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
    }

    pub async fn scalar_text(&self, sql: &str) -> String {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap()
            .try_get::<String, _>(0)
            .unwrap()
    }
}

fn serde_urlencoded(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Runs a scenario once per engine, each on a fresh database.
pub async fn on_every_engine<F, Fut>(scenario: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    for engine in engines() {
        let app = TestApp::new(&engine).await;
        let app = scenario(app).await;
        app.close().await;
    }
}

/// A key made directly in storage for a tenant (by slug), as the operator would.
pub struct TestKey {
    pub id: String,
    pub secret: String,
}

impl TestApp {
    /// Serves the real router on a loopback port, with the peer address known (as in
    /// production), and returns its base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = server::router(self.state.clone(), self.options.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }

    pub async fn tenant_id(&self, slug: &str) -> i64 {
        store::tenants::by_slug(&self.state.db, slug)
            .await
            .unwrap()
            .unwrap()
            .0
    }

    /// Creates a key for `slug` with these scopes, mode, allowlist lines and expiry date.
    pub async fn make_key(
        &self,
        slug: &str,
        scopes: &[&str],
        mode: latchkey_domain::keys::Mode,
        allowlist: &str,
    ) -> TestKey {
        self.make_key_from(
            slug,
            latchkey_domain::views::NewKey {
                name: format!("test key {}", random_base62(6)),
                description: String::new(),
                mode: Some(mode),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                allowlist: allowlist.to_owned(),
                expires_on: String::new(),
                resources: Vec::new(),
            },
        )
        .await
    }

    /// Creates exactly this key for `slug`, as the operator would.
    pub async fn make_key_from(&self, slug: &str, new: latchkey_domain::views::NewKey) -> TestKey {
        let tenant_id = self.tenant_id(slug).await;
        let (key, secret) = store::keys::create(
            &self.state.db,
            &self.state.pepper,
            &self.state.settings.scope_catalogue,
            tenant_id,
            latchkey_domain::Plan::Professional,
            &store::audit::Actor::operator(),
            new,
            None,
            None,
            &[],
        )
        .await
        .unwrap();
        TestKey {
            id: key.id,
            secret: secret.expose().to_owned(),
        }
    }
}

/// An HTTP client for a served app.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An answer from the real HTTP server.
#[derive(Debug)]
pub struct HttpResp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl HttpResp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The field names of a `validation_failed` answer.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub async fn read(res: reqwest::Response) -> HttpResp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    HttpResp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    }
}

/// `METHOD base+path` with the key as Bearer and an optional JSON body.
pub async fn api(
    base: &str,
    method: &str,
    path: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> HttpResp {
    let mut req = http()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    read(req.send().await.unwrap()).await
}

/// `GET base+path` with `Authorization: Bearer key` (when given).
pub async fn get_with_key(base: &str, path: &str, key: Option<&str>) -> HttpResp {
    get_shaped(base, path, |r| match key {
        Some(k) => r.bearer_auth(k),
        None => r,
    })
    .await
}

/// `GET base+path`, with the request shaped by `shape` (headers, auth), read in full.
pub async fn get_shaped(
    base: &str,
    path: &str,
    shape: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> HttpResp {
    read(
        shape(http().get(format!("{base}{path}")))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The pepper every test app uses ([7; 32]), as `--pepper` hex for the binary.
pub fn test_pepper_hex() -> String {
    "07".repeat(32)
}

/// Runs the `latchkey` binary against `database_url` (its own throw-away data dir and the
/// test apps' pepper), as an operator would.
pub fn run_latchkey(database_url: &str, args: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("latchkey-cli-{}", random_base62(8)));
    std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "--database-url",
            database_url,
            "--pepper",
            &test_pepper_hex(),
            "--log",
            "error",
        ])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}
