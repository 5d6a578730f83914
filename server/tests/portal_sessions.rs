//! What a portal session is not (issue 25): it stands for the person only inside its tenant,
//! so it cannot end their other sessions or change their password; a short idle window is
//! renewed by use; and redeeming sweeps sessions that have ended (nothing else may, with
//! password sign-in off).
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::operator::token;
use common::portal::*;
use common::*;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;

/// A portal session for `u-p`, owner of `saas-p`, who also has a password account
/// (`owner@acme.test`'s, linked to the external id): the (portal cookie, password cookie).
async fn both_sessions(app: &TestApp, base: &str) -> (String, String) {
    let op = token(app, &[]).await;
    // The demo owner becomes the SaaS's user `u-p` (linked by email) in a second tenant.
    let t = common::operator::admin(
        base,
        &op,
        "PUT",
        "/v1/admin/tenants/saas-p",
        Some(json!({"name": "Tenant P", "plan": "professional"})),
        None,
    )
    .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let m = common::operator::admin(
        base,
        &op,
        "PUT",
        "/v1/admin/tenants/saas-p/members/u-p",
        Some(json!({"email": "owner@acme.test", "name": "Olivia Owner", "role": "owner"})),
        None,
    )
    .await;
    assert_eq!(m.status, 201, "{}", m.body);
    let password = app.sign_in("owner@acme.test").await;
    let minted = mint(base, &op, json!({"tenant": "saas-p", "user": "u-p"})).await;
    let (_, portal) = redeem(app, &token_of(&minted)).await;
    (portal.unwrap(), password)
}

#[tokio::test]
async fn a_portal_session_cannot_act_for_the_whole_person() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let (portal, password) = both_sessions(&app, &base).await;
        let everywhere = app.call("sign_out_everywhere", &[], Some(&portal)).await;
        assert_eq!(
            everywhere.status,
            StatusCode::FORBIDDEN,
            "{}",
            everywhere.body
        );
        let change = app
            .call_json(
                "account/change_password",
                json!({"current_password": PASSWORD, "new_password": "a-new-long-password-1"}),
                Some(&portal),
            )
            .await;
        assert_eq!(change.status, StatusCode::FORBIDDEN, "{}", change.body);
        // The person's own sessions and password are as they were.
        let me = app.call("session", &[], Some(&password)).await.json();
        assert_eq!(me["email"], "owner@acme.test");
        assert_ne!(
            app.call("session", &[], Some(&portal)).await.json(),
            Value::Null
        );
        app.sign_in("owner@acme.test").await;
        app.close().await;
    }
}

#[tokio::test]
async fn a_short_idle_window_is_renewed_by_use() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.portal.session_idle = Duration::from_secs(60);
        })
        .await;
        let base = app.serve().await;
        let (portal, _) = both_sessions(&app, &base).await;
        let value = portal.split_once('=').unwrap().1.to_owned();
        let ip = IpAddr::from([127, 0, 0, 1]);
        let idle = app.state.settings.session_idle;
        let start = store::db::now_ms();
        // Used 40 s in (less than the minute), then again 40 s later: 80 s after the last
        // write of its use it would be gone, 40 s after this use it is not.
        for at in [start + 40_000, start + 80_000] {
            let s = store::auth::session_at(&app.state.db, &value, ip, idle, at)
                .await
                .unwrap();
            assert!(
                s.is_some(),
                "in use, yet ended at +{} s",
                (at - start) / 1000
            );
        }
        let s = store::auth::session_at(&app.state.db, &value, ip, idle, start + 150_000)
            .await
            .unwrap();
        assert!(s.is_none(), "70 s unused ends it");
        app.close().await;
    }
}

#[tokio::test]
async fn redeeming_sweeps_sessions_that_have_ended() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-s", "u-s", "member").await;
        let first = mint(&base, &op, json!({"tenant": "saas-s", "user": "u-s"})).await;
        redeem(&app, &token_of(&first)).await.1.unwrap();
        // Past the portal session's lifetime (60 minutes by default).
        app.state.db.clock.advance(Duration::from_secs(2 * 3600));
        let second = mint(&base, &op, json!({"tenant": "saas-s", "user": "u-s"})).await;
        redeem(&app, &token_of(&second)).await.1.unwrap();
        let live = app
            .scalar_i64("SELECT COUNT(*) FROM sessions WHERE portal = 1")
            .await;
        assert_eq!(live, 1, "the ended portal session is swept");
        app.close().await;
    }
}
