//! Gateway forward-auth (`/v1/authz`): the operator's rules, the gateway's scope header, the
//! identity headers for the upstream, refusals with the envelope, `limit_status=403`, Envoy's
//! suffixed path, usage in the request log; then a real Debian nginx with `auth_request` in
//! front of a tiny upstream. `make test` installs nginx and sets `LATCHKEY_REQUIRE_NGINX=1`, so
//! there the nginx test fails rather than skips when nginx is missing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::Mode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RATE: u32 = 5;

async fn gateway_app(engine: &Engine) -> TestApp {
    TestApp::with_settings(engine, |s| {
        s.gateway.authz_rules = [
            "GET /payments/*=keys:read",
            "* /payments/*=keys:write",
            "GET /status=",
        ]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
        s.limits.professional_rpm = RATE;
        s.limits.enterprise_rpm = RATE;
        s.usage_flush_interval = Duration::from_millis(50);
    })
    .await
}

async fn authz(base: &str, path: &str, key: Option<&str>, headers: &[(&str, &str)]) -> HttpResp {
    let mut req = http().get(format!("{base}{path}"));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    HttpResp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    }
}

fn fwd<'a>(method: &'a str, uri: &'a str) -> [(&'a str, &'a str); 2] {
    [("X-Forwarded-Method", method), ("X-Forwarded-Uri", uri)]
}

#[tokio::test]
async fn forward_auth_maps_requests_to_scopes_and_answers_like_v1() {
    for engine in engines() {
        let app = gateway_app(&engine).await;
        let base = app.serve().await;
        let reader = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let first = TestKey {
            id: reader.id.clone(),
            secret: reader.secret.clone(),
        };

        // No key: 401 with the envelope.
        let r = authz(&base, "/v1/authz", None, &fwd("GET", "/payments/1")).await;
        assert_eq!((r.status, r.code()), (401, "invalid_api_key"));

        // Allowed: who the key is, for the upstream, and its budget.
        let r = authz(
            &base,
            "/v1/authz",
            Some(&reader.secret),
            &fwd("GET", "/payments/1?x=2"),
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.headers["x-latchkey-key-id"], reader.id.as_str());
        assert!(r.headers["x-latchkey-tenant"]
            .to_str()
            .unwrap()
            .starts_with("org_"));
        assert_eq!(r.headers["x-latchkey-scopes"], "keys:read");
        assert_eq!(r.headers["x-latchkey-mode"], "live");
        assert_eq!(r.headers["x-ratelimit-limit"], RATE.to_string().as_str());

        // The rule for writes needs keys:write.
        let r = authz(
            &base,
            "/v1/authz",
            Some(&reader.secret),
            &fwd("POST", "/payments/1"),
        )
        .await;
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        assert_eq!(r.body["error"]["required_scope"], "keys:write");
        // A client-sent scope header cannot lower what a rule demands.
        let mut h = fwd("POST", "/payments/1").to_vec();
        h.push(("X-Latchkey-Scope", "keys:read"));
        let r = authz(&base, "/v1/authz", Some(&reader.secret), &h).await;
        assert_eq!(r.status, 403);
        // No rule: the gateway's header names the scope, and without one it is refused. (A
        // second key: each answer takes from a key's budget of RATE a minute.)
        let reader = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = authz(
            &base,
            "/v1/authz",
            Some(&reader.secret),
            &fwd("GET", "/reports"),
        )
        .await;
        assert_eq!((r.status, r.code()), (403, "no_authz_rule"));
        let mut h = fwd("GET", "/reports").to_vec();
        h.push(("X-Latchkey-Scope", "keys:read"));
        assert_eq!(
            authz(&base, "/v1/authz", Some(&reader.secret), &h)
                .await
                .status,
            200
        );
        // An empty rule scope: any valid key.
        let r = authz(
            &base,
            "/v1/authz",
            Some(&reader.secret),
            &fwd("GET", "/status"),
        )
        .await;
        assert_eq!(r.status, 200);
        // Envoy appends the original path and keeps the method.
        let r = http()
            .delete(format!("{base}/v1/authz/payments/9"))
            .bearer_auth(&reader.secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "DELETE needs keys:write");

        // Over the budget: 429, or 403 for nginx, with Retry-After and the same code.
        let limited = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        for _ in 0..RATE {
            let r = authz(
                &base,
                "/v1/authz",
                Some(&limited.secret),
                &fwd("GET", "/payments/1"),
            )
            .await;
            assert_eq!(r.status, 200);
        }
        let r = authz(
            &base,
            "/v1/authz",
            Some(&limited.secret),
            &fwd("GET", "/payments/1"),
        )
        .await;
        assert_eq!((r.status, r.code()), (429, "rate_limited"));
        let r = authz(
            &base,
            "/v1/authz?limit_status=403",
            Some(&limited.secret),
            &fwd("GET", "/payments/1"),
        )
        .await;
        assert_eq!((r.status, r.code()), (403, "rate_limited"));
        assert!(r.headers.contains_key("retry-after"));

        // The forwarded requests are in the key's request log, by their own method and path.
        app.state.verifier.usage.flush().await;
        let acme = app.tenant_id("acme").await;
        let (rows, _) = store::keys::request_log(&app.state.db, acme, &first.id, None, 50)
            .await
            .unwrap();
        assert!(
            rows.iter()
                .any(|r| r.method == "GET" && r.path == "/payments/1" && r.status == 200),
            "{rows:?}"
        );
        assert!(
            rows.iter().any(|r| r.method == "POST" && r.status == 403),
            "{rows:?}"
        );
        app.close().await;
    }
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> Option<&'static str> {
    [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/local/nginx/sbin/nginx",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
}

/// nginx in front of `latchkey` (host:port), protecting `/payments/` and `/reports/` for a
/// tiny upstream that echoes the identity nginx copied to it.
fn start_nginx(bin: &str, latchkey: &str) -> (Nginx, String, std::path::PathBuf) {
    let dir = replica::scratch("nginx");
    let port = replica::free_port();
    let upstream = replica::free_port();
    let d = dir.display();
    let conf = format!(
        r#"worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream latchkey {{ server {latchkey}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location = /_latchkey {{
            internal;
            proxy_pass http://latchkey/v1/authz?limit_status=403;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Method $request_method;
            proxy_set_header X-Forwarded-Uri $request_uri;
            proxy_set_header X-Latchkey-Scope $lk_scope;
        }}
        location /payments/ {{
            set $lk_scope "";
            auth_request /_latchkey;
            auth_request_set $lk_key $upstream_http_x_latchkey_key_id;
            auth_request_set $lk_tenant $upstream_http_x_latchkey_tenant;
            proxy_set_header X-Latchkey-Key-Id $lk_key;
            proxy_set_header X-Latchkey-Tenant $lk_tenant;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location /reports/ {{
            set $lk_scope "keys:write";
            auth_request /_latchkey;
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
    server {{
        listen 127.0.0.1:{upstream};
        location / {{
            return 200 "upstream: key=$http_x_latchkey_key_id tenant=$http_x_latchkey_tenant\n";
        }}
    }}
}}
"#
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(bin)
        .args(["-e", &format!("{d}/error.log"), "-p", &d.to_string()])
        .args(["-c", path.to_str().unwrap(), "-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (Nginx(child), format!("http://127.0.0.1:{port}"), dir)
}

async fn through(base: &str, method: &str, path: &str, key: &str) -> (u16, String) {
    let r = http()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_real_nginx_with_auth_request_lets_in_refuses_limits_and_hears_a_revoke() {
    let Some(bin) = nginx_binary() else {
        assert!(
            std::env::var("LATCHKEY_REQUIRE_NGINX").is_err(),
            "LATCHKEY_REQUIRE_NGINX is set but nginx is not installed"
        );
        eprintln!("SKIPPED: no nginx (make test installs Debian's)");
        return;
    };
    let app = gateway_app(&Engine::Sqlite).await;
    let base = app.serve().await;
    let (mut nginx, front, dir) = start_nginx(bin, base.trim_start_matches("http://"));
    // Ready once it answers (401: no key).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = http().get(format!("{front}/payments/1")).send().await {
            if r.status() == 401 {
                break;
            }
        }
        if let Ok(Some(status)) = nginx.0.try_wait() {
            panic!(
                "nginx exited ({status}): {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "nginx never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
    let reader = app.make_key("acme", &["keys:read"], Mode::Live, "").await;

    // Allowed: the upstream sees who the key is, copied by nginx from /v1/authz.
    let (status, body) = through(&front, "GET", "/payments/1", &reader.secret).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("key={}", reader.id)) && body.contains("tenant=org_"),
        "{body}"
    );
    // Refused: an unknown key (401), a missing scope by rule (403) and by nginx's header (403).
    assert_eq!(
        through(&front, "GET", "/payments/1", "lk_live_nope")
            .await
            .0,
        401
    );
    assert_eq!(
        through(&front, "POST", "/payments/1", &reader.secret)
            .await
            .0,
        403
    );
    assert_eq!(
        through(&front, "GET", "/reports/1", &reader.secret).await.0,
        403
    );
    assert_eq!(
        through(&front, "GET", "/reports/1", &admin.secret).await.0,
        200
    );

    // Rate limited: 403 through nginx (limit_status=403), never nginx's 500.
    let limited = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..RATE + 2 {
            v.push(
                through(&front, "GET", "/payments/1", &limited.secret)
                    .await
                    .0,
            );
        }
        v
    };
    assert_eq!(
        &statuses[..RATE as usize],
        vec![200; RATE as usize].as_slice()
    );
    assert_eq!(&statuses[RATE as usize..], [403, 403], "{statuses:?}");

    // Revoked through the API: refused on its very next request through nginx.
    let r = api(
        &base,
        "DELETE",
        &format!("/v1/keys/{}", reader.id),
        &admin.secret,
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        through(&front, "GET", "/payments/1", &reader.secret)
            .await
            .0,
        401
    );
    drop(nginx);
    app.close().await;
}
