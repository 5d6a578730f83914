//! Browser, session and tenant hardening (issue 9, items 9–11) through the real router, on every
//! engine: security headers and a nonce CSP, caching, Secure `__Host-` cookies behind a public
//! HTTPS URL, a new session at sign-in, the idle timeout, signing out everywhere, and server
//! functions refused when they carry a tenant the session has switched away from.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{header, StatusCode};
use clap::Parser as _;
use common::*;
use serde_json::json;

const ACME_PLAN: &str = "SELECT plan FROM tenants WHERE slug = 'acme'";

fn parse_serve(args: &[&str]) -> server::config::ServeArgs {
    match server::config::Cli::try_parse_from(args).unwrap().command {
        server::config::Command::Serve(serve) => *serve,
        other => panic!("not serve: {other:?}"),
    }
}

fn header_of(r: &Resp, name: header::HeaderName) -> String {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The nonce a page's CSP allows, and every `<script` opening tag in its body.
fn nonce_and_scripts(r: &Resp) -> (String, Vec<String>) {
    let csp = header_of(r, header::CONTENT_SECURITY_POLICY);
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default()
        .to_owned();
    let scripts = r
        .body
        .match_indices("<script")
        .map(|(i, _)| {
            let end = r.body[i..].find('>').map_or(r.body.len(), |e| i + e);
            r.body[i..end].to_owned()
        })
        .collect();
    (nonce, scripts)
}

#[tokio::test]
async fn pages_run_under_a_nonce_csp_that_every_inline_script_carries() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let mut seen = Vec::new();
        for (path, cookie) in [("/signin", None), ("/keys", Some(owner.as_str()))] {
            let r = app.get(path, cookie).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
            for directive in [
                "default-src 'self'",
                "frame-ancestors 'none'",
                "object-src 'none'",
                "base-uri 'none'",
                "style-src 'self';",
            ] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            let (nonce, scripts) = nonce_and_scripts(&r);
            assert!(nonce.len() >= 16, "{path}: {csp}");
            // The hydration script and the resources' data are inline: all carry the nonce.
            assert!(scripts.len() >= 2, "{path}: {scripts:?}");
            for s in &scripts {
                assert!(s.contains(&format!("nonce=\"{nonce}\"")), "{path}: {s}");
            }
            // No inline style attribute: the policy would refuse it.
            assert!(!r.body.contains(" style=\""), "{path}");
            assert_eq!(header_of(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(header_of(&r, header::REFERRER_POLICY), "same-origin");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store", "{path}");
            // Plain HTTP on loopback: no HSTS.
            assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
            seen.push(nonce);
        }
        // A fresh nonce for every answer.
        let again = nonce_and_scripts(&app.get("/signin", None).await).0;
        assert!(!seen.contains(&again), "{again} reused");

        // Server functions and /v1 answers are never framed, sniffed or cached.
        let r = app.call("session", &[], Some(&owner)).await;
        assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
        assert!(header_of(&r, header::CONTENT_SECURITY_POLICY).contains("default-src 'none'"));
        let r = app.get("/v1/whoami", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
        assert_eq!(header_of(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        app
    })
    .await;
}

#[tokio::test]
async fn the_answers_that_carry_a_secret_are_never_cached() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "keys/create",
                json!({ "new": { "name": "cache test", "description": "", "mode": "test",
                    "scopes": ["keys:write"], "allowlist": "", "expires_on": "" } }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let secret = r.json()["secret"].as_str().unwrap().to_owned();
        assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");

        let base = app.serve().await;
        let res = http()
            .post(format!("{base}/v1/keys"))
            .bearer_auth(&secret)
            .json(&json!({ "name": "made by a key", "scopes": ["keys:write"] }))
            .send()
            .await
            .unwrap();
        let r = read(res).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert!(r.body["secret"].as_str().is_some());
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        app
    })
    .await;
}

#[tokio::test]
async fn a_public_https_url_makes_cookies_secure_whatever_the_listen_address() {
    // The usual deployment: loopback behind a TLS proxy.
    let behind_proxy = parse_serve(&[
        "latchkey",
        "serve",
        "--addr",
        "127.0.0.1:3000",
        "--public-url",
        "https://keys.example.com/",
    ]);
    assert!(behind_proxy.secure_cookies());
    assert!(!parse_serve(&["latchkey", "serve", "--addr", "127.0.0.1:3000"]).secure_cookies());
    assert!(parse_serve(&["latchkey", "serve", "--addr", "0.0.0.0:3000"]).secure_cookies());
    let plain = parse_serve(&[
        "latchkey",
        "serve",
        "--addr",
        "0.0.0.0:3000",
        "--public-url",
        "http://intranet.example",
    ]);
    assert!(!plain.secure_cookies());
    assert!(server::config::Cli::try_parse_from([
        "latchkey",
        "serve",
        "--public-url",
        "keys.example.com"
    ])
    .is_err());

    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| s.insecure_cookies = false).await;
        let r = app
            .call(
                "sign_in",
                &[("email", "owner@acme.test"), ("password", PASSWORD)],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let set = header_of(&r, header::SET_COOKIE);
        assert!(set.starts_with("__Host-lk_session="), "{set}");
        for attr in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
            assert!(set.contains(attr), "{set}");
        }
        assert!(!set.contains("Domain="), "{set}");
        assert_eq!(
            header_of(&r, header::STRICT_TRANSPORT_SECURITY),
            "max-age=31536000; includeSubDomains"
        );
        let cookie = set.split(';').next().unwrap().to_owned();
        let s = app.call("session", &[], Some(&cookie)).await.json();
        assert_eq!(s["role"], "owner");
        // The same token under the unprefixed name is not the session.
        let token = cookie.trim_start_matches("__Host-lk_session=");
        let r = app
            .call("billing", &[], Some(&format!("lk_session={token}")))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        app.close().await;
    }
}

#[tokio::test]
async fn signing_in_ends_the_session_the_browser_presented() {
    on_every_engine(|app| async move {
        let first = app.sign_in("owner@acme.test").await;
        let r = app
            .call(
                "sign_in",
                &[("email", "admin@acme.test"), ("password", PASSWORD)],
                Some(&first),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let second = header_of(&r, header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert_ne!(first, second);
        assert_eq!(
            app.call("session", &[], Some(&first)).await.json(),
            json!(null)
        );
        let s = app.call("session", &[], Some(&second)).await.json();
        assert_eq!(s["email"], "admin@acme.test");
        // A failed sign-in leaves the presented session alone.
        let r = app
            .call(
                "sign_in",
                &[("email", "admin@acme.test"), ("password", "wrong-password")],
                Some(&second),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            app.call("session", &[], Some(&second)).await.json()["email"],
            "admin@acme.test"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_session_left_idle_ends_and_one_in_use_is_renewed() {
    on_every_engine(|app| async move {
        let idle = app.state.settings.session_idle;
        let idle_ms = i64::try_from(idle.as_millis()).unwrap();
        assert_eq!(idle.as_secs(), 30 * 60, "the default idle window");
        let cookie = app.sign_in("owner@acme.test").await;
        let token = cookie.trim_start_matches("lk_session=").to_owned();
        let now = store::db::now_ms();
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        // Just inside the window it still works, and its use renews it.
        let s = store::auth::session_at(&app.state.db, &token, ip, idle, now + idle_ms - 1000)
            .await
            .unwrap();
        assert!(s.is_some());
        let s = store::auth::session_at(&app.state.db, &token, ip, idle, now + 2 * idle_ms - 2000)
            .await
            .unwrap();
        assert!(s.is_some(), "renewed by the use before");
        // Left alone for longer than the window, it is over (well inside its 1 h lifetime).
        let s = store::auth::session_at(&app.state.db, &token, ip, idle, now + 3 * idle_ms)
            .await
            .unwrap();
        assert!(s.is_none());

        // Through the router: a session last used 31 minutes ago is no session.
        let other = app.sign_in("admin@acme.test").await;
        let other_hash = store::auth::token_hash(other.trim_start_matches("lk_session="));
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(store::db::now_ms() - 31 * 60 * 1000)
            .bind(&other_hash)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let r = app.call("billing", &[], Some(&other)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // A session in use is written at most once a minute, not on every request.
        let fresh = app.sign_in("member@acme.test").await;
        let fresh_hash = store::auth::token_hash(fresh.trim_start_matches("lk_session="));
        let seen = format!("SELECT last_seen_at FROM sessions WHERE token_hash = '{fresh_hash}'");
        let created = app.scalar_i64(&seen).await;
        let list = || {
            app.call_json(
                "keys/list",
                json!({ "search": "", "include_revoked": false, "before": null }),
                Some(&fresh),
            )
        };
        for _ in 0..3 {
            let r = list().await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        assert_eq!(app.scalar_i64(&seen).await, created);
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(store::db::now_ms() - 2 * 60 * 1000)
            .bind(&fresh_hash)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(list().await.status, StatusCode::OK);
        assert!(
            app.scalar_i64(&seen).await >= created,
            "renewed after a minute"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_that_person_only() {
    on_every_engine(|app| async move {
        let laptop = app.sign_in("owner@acme.test").await;
        let phone = app.sign_in("owner@acme.test").await;
        let colleague = app.sign_in("admin@acme.test").await;
        let r = app.call("sign_out_everywhere", &[], Some(&phone)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(header_of(&r, header::SET_COOKIE).contains("Max-Age=0"));
        for c in [&laptop, &phone] {
            assert_eq!(
                app.call("billing", &[], Some(c)).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            app.call("billing", &[], Some(&colleague)).await.status,
            StatusCode::OK
        );
        // Signed out, it is refused like any other call without a session.
        assert_eq!(
            app.call("sign_out_everywhere", &[], None).await.status,
            StatusCode::UNAUTHORIZED
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_tenant_switch_in_one_tab_does_not_retarget_a_page_open_in_another() {
    on_every_engine(|app| async move {
        // The Acme owner also owns a second organisation.
        let other = store::tenants::create_tenant(
            &app.state.db,
            "other-org",
            "Other Org",
            latchkey_domain::Plan::Professional,
        )
        .await
        .unwrap();
        let owner_id = store::auth::user_id_by_email(&app.state.db, "owner@acme.test")
            .await
            .unwrap()
            .unwrap();
        store::tenants::add_member(
            &app.state.db,
            other,
            owner_id,
            latchkey_domain::Role::Owner,
            &store::audit::Actor::operator(),
        )
        .await
        .unwrap();
        let acme = app.tenant_id("acme").await;
        let owner = app.sign_in("owner@acme.test").await;
        let key = app
            .make_key(
                "acme",
                &["keys:read"],
                latchkey_domain::keys::Mode::Test,
                "",
            )
            .await;
        // Tab A shows Acme's Billing and keys; tab B switches the session to Other Org.
        assert_eq!(app.page_tenant(Some(&owner)).await, acme);
        let r = app
            .call(
                "switch_tenant",
                &[("tenant_id", &other.to_string())],
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // Tab A's "Switch to Starter", still carrying Acme, changes nothing anywhere.
        let acme_s = acme.to_string();
        let r = app
            .call(
                "change_plan",
                &[("tenant", &acme_s), ("plan", "starter")],
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("another tab"), "{}", r.body);
        assert_eq!(app.scalar_text(ACME_PLAN).await, "professional");
        assert_eq!(
            app.scalar_text("SELECT plan FROM tenants WHERE slug = 'other-org'")
                .await,
            "professional"
        );
        // Nor a revoke, nor a read of the old tenant's list.
        let r = app
            .call_json(
                "keys/revoke",
                json!({ "tenant": acme, "id": key.id, "reason": "" }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let status: String = app
            .scalar_text(&format!(
                "SELECT CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'revoked' END \
                 FROM api_keys WHERE public_id = '{}'",
                key.id
            ))
            .await;
        assert_eq!(status, "active");
        let r = app
            .call_json(
                "keys/list",
                json!({ "tenant": acme, "search": "", "include_revoked": false, "before": null }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // A page drawn after the switch carries the new tenant and works.
        let r = app
            .call("change_plan", &[("plan", "enterprise")], Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            app.scalar_text("SELECT plan FROM tenants WHERE slug = 'other-org'")
                .await,
            "enterprise"
        );
        app
    })
    .await;
}
