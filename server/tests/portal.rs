//! Portal links (issue 25) through the real router on every engine: one use, expiry by the
//! clock, the tenant pin, read-only, the return-URL and landing-page checks at minting, the
//! refresh redirect, and the sign-in budget every redemption spends.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{header, StatusCode};
use common::operator::{admin, token};
use common::portal::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn audit_count(app: &TestApp, action: &str, detail: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND details LIKE '%{detail}%'"
    ))
    .await
}

#[tokio::test]
async fn a_link_opens_one_session_pinned_to_its_tenant() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-one", "u-1", "owner").await;
        provision(&base, &op, "saas-two", "u-1", "owner").await;
        let minted = mint(
            &base,
            &op,
            json!({"tenant": "saas-one", "user": "u-1",
            "return_url": "https://app.example.com/settings"}),
        )
        .await;
        assert_eq!(minted.status, 201, "{}", minted.body);
        let token = token_of(&minted);

        let (first, cookie) = redeem(&app, &token).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.json(), json!("/keys"));
        let cookie = cookie.expect("a portal session cookie");
        let me = app.call("session", &[], Some(&cookie)).await.json();
        assert_eq!(me["tenant_name"], "Tenant saas-one");
        assert_eq!(me["role"], "owner");
        assert_eq!(me["pinned"], true);
        assert_eq!(me["tenants"], json!([]), "no switcher in a portal session");
        assert_eq!(me["return_url"], "https://app.example.com/settings");
        assert_eq!(me["product_name"], "Acme SaaS");
        // The person belongs to saas-two too, but this session cannot go there.
        let two = store::operator::tenants::by_external_id(&app.state.db, "saas-two")
            .await
            .unwrap();
        let switch = app
            .call(
                "switch_tenant",
                &[("tenant_id", &two.id.to_string())],
                Some(&cookie),
            )
            .await;
        assert_eq!(switch.status, StatusCode::FORBIDDEN, "{}", switch.body);
        let me = app.call("session", &[], Some(&cookie)).await.json();
        assert_eq!(me["tenant_name"], "Tenant saas-one");

        // Single use: the second redemption is refused and opens nothing.
        let (second, again) = redeem(&app, &token).await;
        assert_eq!(second.status, StatusCode::NOT_FOUND, "{}", second.body);
        assert!(again.is_none());
        let (unknown, _) = redeem(&app, "lkp_0000000000000000000000000000000a").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.body, second.body, "every refusal looks the same");

        let minted_by = format!(
            "operator:{}",
            app.scalar_text("SELECT name FROM operator_tokens ORDER BY id DESC LIMIT 1")
                .await
        );
        let created = app
            .scalar_text("SELECT actor FROM audit_events WHERE action = 'portal_link.created'")
            .await;
        assert_eq!(created, minted_by);
        assert_eq!(
            audit_count(&app, "user.signed_in", "\"method\":\"portal_link\"").await,
            1
        );
        assert_eq!(
            audit_count(&app, "portal_link.refused", "\"reason\":\"used\"").await,
            1
        );
        assert_eq!(
            audit_count(&app, "portal_link.refused", "\"reason\":\"unknown\"").await,
            1
        );
        app.close().await;
    }
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-exp", "u-2", "admin").await;
        let minted = mint(
            &base,
            &op,
            json!({"tenant": "saas-exp", "user": "u-2",
            "ttl_seconds": 30.0}),
        )
        .await;
        assert_eq!(minted.status, 201, "{}", minted.body);
        app.state.db.clock.advance(Duration::from_secs(31));
        let (r, cookie) = redeem(&app, &token_of(&minted)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert!(cookie.is_none());
        assert_eq!(
            audit_count(&app, "portal_link.refused", "\"reason\":\"expired\"").await,
            1
        );
        app.close().await;
    }
}

#[tokio::test]
async fn a_read_only_link_reads_keys_and_changes_nothing() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-ro", "u-3", "owner").await;
        let minted = mint(
            &base,
            &op,
            json!({"tenant": "saas-ro", "user": "u-3",
            "read_only": true}),
        )
        .await;
        let (_, cookie) = redeem(&app, &token_of(&minted)).await;
        let cookie = cookie.unwrap();
        assert_eq!(
            app.call("session", &[], Some(&cookie)).await.json()["role"],
            "member"
        );
        let tenant = store::operator::tenants::by_external_id(&app.state.db, "saas-ro")
            .await
            .unwrap();
        let (slug,): (String,) = sqlx::query_as("SELECT slug FROM tenants WHERE id = $1")
            .bind(tenant.id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let key = app
            .make_key(&slug, &["keys:read"], latchkey_domain::keys::Mode::Test, "")
            .await;
        let list = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": true, "before": null}),
                Some(&cookie),
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        let create = app
            .call_json(
                "keys/create",
                json!({ "new": { "name": "nope",
            "description": "", "mode": "test", "scopes": ["keys:read"], "allowlist": "",
            "expires_on": "" } }),
                Some(&cookie),
            )
            .await;
        assert_eq!(create.status, StatusCode::FORBIDDEN, "{}", create.body);
        let revoke = app
            .call_json(
                "keys/revoke",
                json!({"id": key.id, "reason": "x"}),
                Some(&cookie),
            )
            .await;
        assert_eq!(revoke.status, StatusCode::FORBIDDEN, "{}", revoke.body);
        let status: String = sqlx::query_scalar("SELECT status FROM api_keys WHERE public_id = $1")
            .bind(&key.id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(status, "active");
        app.close().await;
    }
}

#[tokio::test]
async fn minting_refuses_what_would_lead_elsewhere() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-m", "u-4", "owner").await;
        let acme_key = app
            .make_key(
                "acme",
                &["keys:read"],
                latchkey_domain::keys::Mode::Test,
                "",
            )
            .await;
        let refused: Vec<(Value, &str)> = vec![
            (
                json!({"return_url": "https://evil.example/phish"}),
                "return_url",
            ),
            (
                json!({"return_url": "https://app.example.com.evil.example/"}),
                "return_url",
            ),
            (json!({"next": "//evil.example"}), "next"),
            (json!({"next": format!("/keys/{}", acme_key.id)}), "next"),
            (json!({"ttl_seconds": 301}), "ttl_seconds"),
            (json!({"user": "someone-else"}), "user"),
        ];
        for (extra, field) in refused {
            let mut body = json!({"tenant": "saas-m", "user": "u-4"});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let r = mint(&base, &op, body.clone()).await;
            assert_eq!(r.status, 422, "{body}: {}", r.body);
            assert!(r.fields().contains(&field.to_owned()), "{body}: {}", r.body);
        }
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM portal_links").await, 0);
        // A token without `portal:write` mints nothing.
        let narrow = token(&app, &["members:write"]).await;
        let r = mint(&base, &narrow, json!({"tenant": "saas-m", "user": "u-4"})).await;
        assert_eq!(r.status, 403, "{}", r.body);

        // Redeemed for saas-m, the session cannot open Acme's key by its path either.
        let minted = mint(&base, &op, json!({"tenant": "saas-m", "user": "u-4"})).await;
        let (_, cookie) = redeem(&app, &token_of(&minted)).await;
        let get = app
            .call_json("keys/get", json!({"id": acme_key.id}), cookie.as_deref())
            .await;
        assert_eq!(get.status, StatusCode::NOT_FOUND, "{}", get.body);
        app.close().await;
    }
}

#[tokio::test]
async fn an_ended_portal_session_goes_back_to_the_saas() {
    for engine in engines() {
        let app = portal_app(&engine, 1000).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-r", "u-5", "owner").await;
        let minted = mint(&base, &op, json!({"tenant": "saas-r", "user": "u-5"})).await;
        let (_, cookie) = redeem(&app, &token_of(&minted)).await;
        let cookie = cookie.unwrap();
        // Alive: the sign-in page is just the sign-in page.
        assert_eq!(
            app.get("/signin", Some(&cookie)).await.status,
            StatusCode::OK
        );
        let r = admin(
            &base,
            &op,
            "POST",
            "/v1/admin/portal-sessions/expire",
            Some(json!({"tenant": "saas-r", "user": "u-5"})),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["expired"], 1);
        assert_eq!(
            app.call("session", &[], Some(&cookie)).await.json(),
            Value::Null
        );
        let signin = app.get("/signin", Some(&cookie)).await;
        assert_eq!(signin.status, StatusCode::SEE_OTHER);
        assert_eq!(signin.headers[header::LOCATION], REFRESH_URL);
        // Someone else's (password) cookie is not sent anywhere.
        let owner = app.sign_in("owner@acme.test").await;
        assert_eq!(
            app.get("/signin", Some(&owner)).await.status,
            StatusCode::OK
        );
        let probe = app.call("portal/refresh", &[], Some(&cookie)).await;
        assert_eq!(probe.json(), json!(REFRESH_URL));
        assert_eq!(
            audit_count(&app, "portal_sessions.expired", "\"sessions\":1").await,
            1
        );
        app.close().await;
    }
}

#[tokio::test]
async fn a_portal_session_keeps_the_operators_idle_window() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            s.portal.session_idle = Duration::from_secs(60);
        })
        .await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        provision(&base, &op, "saas-i", "u-6", "owner").await;
        let minted = mint(&base, &op, json!({"tenant": "saas-i", "user": "u-6"})).await;
        let (_, cookie) = redeem(&app, &token_of(&minted)).await;
        let portal = cookie.unwrap().split_once('=').unwrap().1.to_owned();
        let owner = app.sign_in("owner@acme.test").await;
        let password = owner.split_once('=').unwrap().1.to_owned();
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        let later = store::db::now_ms() + 61_000;
        let idle = app.state.settings.session_idle;
        let at = |t: String| {
            let db = app.state.db.clone();
            async move {
                store::auth::session_at(&db, &t, ip, idle, later)
                    .await
                    .unwrap()
            }
        };
        assert!(
            at(portal).await.is_none(),
            "a minute idle ends the portal session"
        );
        assert!(
            at(password).await.is_some(),
            "the password session keeps its 30 minutes"
        );
        app.close().await;
    }
}

#[tokio::test]
async fn every_redemption_spends_the_sign_in_budget() {
    let app = portal_app(&Engine::Sqlite, 3).await;
    for _ in 0..3 {
        let (r, _) = redeem(&app, "lkp_0000000000000000000000000000000b").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let (r, _) = redeem(&app, "lkp_0000000000000000000000000000000b").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // Refusals of unknown links are audited outside any tenant, which the system log bounds.
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'portal_link.refused' \
            AND tenant_id IS NULL"
        )
        .await,
        3
    );
    app.close().await;
}
