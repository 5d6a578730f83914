//! Signing in with an OpenID provider (issue 25), against a real one: panva's certified
//! `oidc-provider` under node (end2end/oidc/provider.mjs), started per scenario on a free port,
//! and a real Latchkey serving on another, on every engine. The client walks the redirects
//! itself, as a browser would, posting the provider's login and consent forms.
#![allow(clippy::unwrap_used)]

#[path = "oidc/accounts.rs"]
mod accounts;
mod common;
#[path = "oidc/discovery.rs"]
mod discovery;
#[path = "oidc/walk.rs"]
mod walk;

use common::*;
use latchkey_domain::keys::Pepper;
use store::auth::oidc::{flow_key, open, seal, FLOW_COOKIE};
use store::Settings;
use walk::{Browser, Provider};

/// A Latchkey serving on a loopback port with OIDC on, and its provider.
struct Rig {
    app: TestApp,
    base: String,
    provider: Provider,
}

async fn rig(engine: &Engine, tweak: impl FnOnce(&mut Settings)) -> Rig {
    rig_with(engine, false, tweak).await
}

/// As [`rig`]; `claims_in_id_token` makes the provider put the email (and the tenant and role
/// claims) in the ID token as well, instead of in its UserInfo answer only.
async fn rig_with(
    engine: &Engine,
    claims_in_id_token: bool,
    tweak: impl FnOnce(&mut Settings),
) -> Rig {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{base}/auth/oidc/callback");
    let provider = Provider::start(&callback, claims_in_id_token).await;
    let settings = provider.settings(true);
    let app = TestApp::with_settings(engine, |s| {
        s.oidc = Some(settings);
        s.public_url = Some(base.clone());
        tweak(s);
    })
    .await;
    let router = server::router(app.state.clone(), app.options.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Rig {
        app,
        base,
        provider,
    }
}

/// Which of the provider's claims Latchkey maps to memberships.
#[derive(Clone, Copy)]
enum Claims {
    None,
    Tenant,
    TenantAndRole,
}

/// As [`rig_with`], mapping `claims`, with Acme known by the external id `acme-ext` (what the
/// provider's `…#acme-ext` logins claim).
async fn acme_rig(engine: &Engine, claims_in_id_token: bool, claims: Claims) -> Rig {
    let rig = rig_with(engine, claims_in_id_token, |s| {
        let o = s.oidc.as_mut().unwrap();
        if !matches!(claims, Claims::None) {
            o.tenant_claim = Some("org".to_owned());
        }
        if matches!(claims, Claims::TenantAndRole) {
            o.role_claim = Some("role".to_owned());
        }
    })
    .await;
    sqlx::query("UPDATE tenants SET external_id = 'acme-ext' WHERE slug = 'acme'")
        .execute(&rig.app.state.db.pool)
        .await
        .unwrap();
    rig
}

/// Starts a flow at Latchkey and goes through the provider as `login`: the callback URL the
/// provider sends the browser back to (not yet visited).
async fn to_callback(rig: &Rig, browser: &mut Browser, login: &str) -> String {
    let start = browser.get(&format!("{}/auth/oidc/start", rig.base)).await;
    assert_eq!(start.status, 303, "{}", start.body);
    assert!(
        browser.cookie(&rig.base, FLOW_COOKIE).is_some(),
        "the flow cookie is set"
    );
    let at_provider = start.location.unwrap();
    assert!(
        at_provider.contains("code_challenge_method=S256") && at_provider.contains("nonce="),
        "{at_provider}"
    );
    let back = browser.through_provider(&at_provider, login).await;
    assert!(
        back.starts_with(&format!("{}/auth/oidc/callback?", rig.base)),
        "{back}"
    );
    back
}

/// The `lk_session=…` pair a hop set, if any.
fn session_set(hop: &walk::Hop) -> Option<String> {
    hop.set_cookies
        .iter()
        .find(|c| c.starts_with("lk_session=") && !c.starts_with("lk_session=;"))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql).await
}

#[tokio::test]
async fn a_full_code_and_pkce_sign_in_opens_a_session_and_the_code_cannot_be_replayed() {
    for engine in engines() {
        let rig = rig(&engine, |_| {}).await;
        let app = &rig.app;
        let mut browser = Browser::new();
        let back = to_callback(&rig, &mut browser, "owner@acme.test").await;
        let flow = browser.cookie(&rig.base, FLOW_COOKIE).unwrap();
        let done = browser.get(&back).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location.as_deref(), Some(&*format!("{}/", rig.base)));
        let cookie = session_set(&done).expect("a session cookie");
        assert!(
            browser.cookie(&rig.base, FLOW_COOKIE).is_none(),
            "the flow cookie is cleared"
        );
        // The session is the demo owner's, in their organisation.
        let s = app.call("session", &[], Some(&cookie)).await;
        assert_eq!(s.json()["email"], "owner@acme.test", "{}", s.body);
        let list = serde_json::json!({"search": "", "include_revoked": true, "before": null});
        let keys = app.call_json("keys/list", list, Some(&cookie)).await;
        assert_eq!(keys.status, 200, "{}", keys.body);
        // Linked by (issuer, subject), audited with the method.
        assert_eq!(
            count(
                app,
                "SELECT COUNT(*) FROM user_identities WHERE subject = 'owner@acme.test'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                app,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'user.signed_in' \
                 AND details LIKE '%\"method\":\"oidc\"%'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                app,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'user.sso_linked'"
            )
            .await,
            1
        );

        // The same callback again, flow cookie and all: the provider refuses the used code.
        let sessions = count(app, "SELECT COUNT(*) FROM sessions").await;
        browser.set_cookie(&rig.base, FLOW_COOKIE, &flow);
        let replay = browser.get(&back).await;
        assert_eq!(
            replay.location.as_deref(),
            Some(&*format!("{}/signin?sso=failed", rig.base)),
            "{engine:?}"
        );
        assert_eq!(session_set(&replay), None);
        assert_eq!(count(app, "SELECT COUNT(*) FROM sessions").await, sessions);
        rig.app.close().await;
    }
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    for engine in engines() {
        let rig = rig(&engine, |_| {}).await;
        let mut browser = Browser::new();
        let back = to_callback(&rig, &mut browser, "owner@acme.test").await;
        let real_state = reqwest::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let forged = back.replace(&real_state, "attacker-chosen-state");
        let hop = browser.get(&forged).await;
        assert_eq!(
            hop.location.as_deref(),
            Some(&*format!("{}/signin?sso=failed", rig.base))
        );
        assert_eq!(session_set(&hop), None);
        assert_eq!(count(&rig.app, "SELECT COUNT(*) FROM sessions").await, 0);
        assert_eq!(
            count(&rig.app, "SELECT COUNT(*) FROM user_identities").await,
            0
        );
        rig.app.close().await;
    }
}

#[tokio::test]
async fn an_id_token_for_another_nonce_is_refused() {
    let key = flow_key(&Pepper::new(vec![7; 32]).unwrap());
    for engine in engines() {
        let rig = rig(&engine, |_| {}).await;
        // Control: the flow re-sealed as it was (the test holds the real key) signs in, so the
        // refusal below is the nonce's alone.
        for (nonce_changed, expected) in [(false, "/"), (true, "/signin?sso=failed")] {
            let mut browser = Browser::new();
            let back = to_callback(&rig, &mut browser, "owner@acme.test").await;
            let sealed = browser.cookie(&rig.base, FLOW_COOKIE).unwrap();
            let mut flow = open(&key, &sealed, 0).expect("the test knows the key");
            if nonce_changed {
                flow.nonce = "a-nonce-the-provider-never-saw".to_owned();
            }
            browser.set_cookie(&rig.base, FLOW_COOKIE, &seal(&key, &flow));
            let hop = browser.get(&back).await;
            assert_eq!(
                hop.location.as_deref(),
                Some(&*format!("{}{expected}", rig.base)),
                "nonce changed: {nonce_changed}"
            );
            assert_eq!(session_set(&hop).is_some(), !nonce_changed);
        }
        rig.app.close().await;
    }
}

#[tokio::test]
async fn a_person_with_no_membership_is_told_so_and_nothing_is_created() {
    for engine in engines() {
        let rig = rig(&engine, |_| {}).await;
        let app = &rig.app;
        let users = count(app, "SELECT COUNT(*) FROM users").await;
        // A stranger, and a member's email the provider has not verified (no takeover by email).
        for login in ["stranger@nowhere.test", "unverified+owner@acme.test"] {
            let mut browser = Browser::new();
            let back = to_callback(&rig, &mut browser, login).await;
            let hop = browser.get(&back).await;
            assert_eq!(
                hop.location.as_deref(),
                Some(&*format!("{}/signin?sso=no-membership", rig.base)),
                "{login}"
            );
            assert_eq!(session_set(&hop), None, "{login}");
        }
        assert_eq!(count(app, "SELECT COUNT(*) FROM users").await, users);
        assert_eq!(count(app, "SELECT COUNT(*) FROM user_identities").await, 0);
        assert_eq!(count(app, "SELECT COUNT(*) FROM sessions").await, 0);
        // The page says what to do.
        let page = app.get("/signin?sso=no-membership", None).await;
        assert!(page.body.contains("No organisation yet"), "{}", page.body);
        assert!(page.body.contains("for an invitation"), "{}", page.body);
        rig.app.close().await;
    }
}

#[tokio::test]
async fn the_tenant_claim_makes_a_member_of_that_tenant_only_when_configured() {
    for engine in engines() {
        let rig = acme_rig(&engine, false, Claims::TenantAndRole).await;
        let app = &rig.app;
        // A tenant nobody has: nothing.
        let mut browser = Browser::new();
        let back = to_callback(&rig, &mut browser, "newbie@acme.test#nope").await;
        let hop = browser.get(&back).await;
        assert_eq!(
            hop.location.as_deref(),
            Some(&*format!("{}/signin?sso=no-membership", rig.base))
        );
        assert_eq!(
            count(
                app,
                "SELECT COUNT(*) FROM users WHERE email = 'newbie@acme.test'"
            )
            .await,
            0
        );
        // The tenant's external id: a member with the claimed role.
        let mut browser = Browser::new();
        let back = to_callback(&rig, &mut browser, "newbie@acme.test#acme-ext").await;
        let hop = browser.get(&back).await;
        let cookie = session_set(&hop).expect("signed in");
        let s = app.call("session", &[], Some(&cookie)).await.json();
        assert_eq!(s["email"], "newbie@acme.test");
        assert_eq!(s["role"], "admin");
        rig.app.close().await;
    }
}

#[tokio::test]
async fn password_sign_in_off_is_refused_and_hidden() {
    for engine in engines() {
        let rig = rig(&engine, |s| s.password_sign_in = false).await;
        let app = &rig.app;
        let r = app
            .call(
                "sign_in",
                &[("email", "owner@acme.test"), ("password", PASSWORD)],
                None,
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(!r.headers.contains_key("set-cookie"));
        let options = app.call("sign_in_options", &[], None).await.json();
        assert_eq!(options["password"], false);
        assert_eq!(options["sso_label"], "Sign in with Acme ID");
        rig.app.close().await;
    }
}

#[tokio::test]
async fn an_issuer_inside_the_network_is_not_contacted_without_allow_private() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let engine = Engine::Sqlite;
    // Something listening where the issuer points, counting who connects.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    for issuer in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let app = TestApp::with_settings(&engine, |s| {
            s.oidc = Some(store::auth::oidc::OidcSettings {
                issuer: issuer.clone(),
                client_id: "c".into(),
                client_secret: "s".into(),
                button_label: "SSO".into(),
                tenant_claim: None,
                role_claim: None,
                allow_private: false,
            });
        })
        .await;
        let r = app.get("/auth/oidc/start", None).await;
        assert_eq!(r.status, 303, "{issuer}");
        assert_eq!(
            r.headers.get("location").unwrap(),
            "/signin?sso=failed",
            "{issuer}"
        );
        app.close().await;
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "no request reached it");
}

#[tokio::test]
async fn with_oidc_off_its_routes_are_not_found() {
    let app = TestApp::new(&Engine::Sqlite).await;
    for path in ["/auth/oidc/start", "/auth/oidc/callback?code=x&state=y"] {
        assert_eq!(app.get(path, None).await.status, 404, "{path}");
    }
    let options = app.call("sign_in_options", &[], None).await.json();
    assert_eq!(options["password"], true);
    assert!(options["sso_label"].is_null());
    app.close().await;
}

#[tokio::test]
async fn starting_a_flow_spends_the_sign_in_budget() {
    let rig = rig(&Engine::Sqlite, |s| s.sign_in_per_ip_per_minute = 1).await;
    let mut browser = Browser::new();
    let start = format!("{}/auth/oidc/start", rig.base);
    let first = browser.get(&start).await;
    assert!(
        first.location.unwrap().starts_with(&rig.provider.issuer),
        "the first goes to the provider"
    );
    // The next is refused before any request to the provider.
    let second = browser.get(&start).await;
    assert_eq!(
        second.location.as_deref(),
        Some(&*format!("{}/signin?sso=failed", rig.base))
    );
    rig.app.close().await;
}
