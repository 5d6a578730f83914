//! `/v1/admin` (issue 24): only operator tokens get in, each only as far as its scopes; the
//! tenant upsert is idempotent by the SaaS's id and by `Idempotency-Key`; members follow the
//! SaaS's user ids; deleting a tenant revokes its keys and keeps its audit log. Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use common::operator::{admin, app, token, SERVICE_TOKEN};
use common::*;
use latchkey_domain::keys::Mode;
use serde_json::json;

/// Every admin route, the scope it needs, and a body it accepts.
fn routes() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    Option<serde_json::Value>,
)> {
    let t = "/v1/admin/tenants/ext-1";
    vec![
        ("GET", "/v1/admin/tenants", "tenants:read", None),
        (
            "PUT",
            t,
            "tenants:write",
            Some(json!({"name": "Changed", "plan": "enterprise"})),
        ),
        ("GET", t, "tenants:read", None),
        ("DELETE", t, "tenants:write", None),
        (
            "GET",
            "/v1/admin/tenants/ext-1/members",
            "members:read",
            None,
        ),
        (
            "PUT",
            "/v1/admin/tenants/ext-1/members/u-9",
            "members:write",
            Some(json!({"email": "nine@example.com", "name": "Nine", "role": "admin"})),
        ),
        (
            "DELETE",
            "/v1/admin/tenants/ext-1/members/u-1",
            "members:write",
            None,
        ),
        (
            "GET",
            "/v1/admin/tenants/ext-1/requirements",
            "tenants:read",
            None,
        ),
        (
            "PUT",
            "/v1/admin/tenants/ext-1/requirements",
            "tenants:write",
            Some(json!([{"id": "kyb", "label": "KYB review complete", "met": false}])),
        ),
        (
            "GET",
            "/v1/admin/tenants/ext-1/resources",
            "tenants:read",
            None,
        ),
        (
            "PUT",
            "/v1/admin/tenants/ext-1/resources/account/acct_9",
            "resources:write",
            Some(json!({"name": "Payroll"})),
        ),
        (
            "DELETE",
            "/v1/admin/tenants/ext-1/resources/account/acct_1",
            "resources:write",
            None,
        ),
        (
            "GET",
            "/v1/admin/tenants/ext-1/audit-events",
            "tenants:read",
            None,
        ),
    ]
}

/// What the routes could change, as one comparable snapshot.
async fn snapshot(app: &TestApp) -> (String, i64, i64, i64, i64) {
    (
        app.scalar_text(
            "SELECT name || '/' || plan || '/' || status FROM tenants WHERE external_id = 'ext-1'",
        )
        .await,
        app.scalar_i64("SELECT COUNT(*) FROM memberships").await,
        app.scalar_i64("SELECT COUNT(*) FROM tenant_requirements")
            .await,
        app.scalar_i64("SELECT COUNT(*) FROM tenant_resources")
            .await,
        // Tokens made for the matrix are audited (outside any tenant); nothing else may be.
        app.scalar_i64(
            "SELECT COUNT(*) FROM audit_events WHERE action <> 'operator_token.created'",
        )
        .await,
    )
}

#[tokio::test]
async fn only_an_operator_token_with_the_scope_gets_in_and_refusals_change_nothing() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let good = token(&app, &[]).await;
        let put = |path: &'static str, body| admin(&base, &good, "PUT", path, Some(body), None);
        assert_eq!(
            put(
                "/v1/admin/tenants/ext-1",
                json!({"name": "Ext One", "plan": "professional"})
            )
            .await
            .status,
            201
        );
        let member = json!({"email": "one@example.com", "name": "One", "role": "owner"});
        assert_eq!(
            put("/v1/admin/tenants/ext-1/members/u-1", member)
                .await
                .status,
            201
        );
        let r = put(
            "/v1/admin/tenants/ext-1/resources/account/acct_1",
            json!({"name": "Operating ••1234"}),
        )
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);

        let revoked = token(&app, &[]).await;
        let name = app
            .scalar_text("SELECT name FROM operator_tokens ORDER BY id DESC LIMIT 1")
            .await;
        store::operator::tokens::revoke(&app.state.db, &name)
            .await
            .unwrap();
        let api_key = app.make_key("acme", &["*"], Mode::Live, "").await.secret;
        let before = snapshot(&app).await;
        for (method, path, scope, body) in routes() {
            let others: Vec<&str> = latchkey_domain::operator::SCOPES
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| *s != scope)
                .collect();
            let unscoped = token(&app, &others).await;
            let wrong: [(&str, &str, u16, &str); 5] = [
                ("no token", "", 401, "invalid_operator_token"),
                ("revoked", &revoked, 401, "invalid_operator_token"),
                ("api key *", &api_key, 401, "invalid_operator_token"),
                (
                    "service token",
                    SERVICE_TOKEN,
                    401,
                    "invalid_operator_token",
                ),
                ("without scope", &unscoped, 403, "insufficient_scope"),
            ];
            for (what, credential, status, code) in wrong {
                let mut req = http().request(method.parse().unwrap(), format!("{base}{path}"));
                if !credential.is_empty() {
                    req = req.bearer_auth(credential);
                }
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let r = read(req.send().await.unwrap()).await;
                assert_eq!(
                    (r.status, r.code()),
                    (status, code),
                    "{} {method} {path} with {what}: {:?}",
                    app.engine,
                    r.body
                );
            }
        }
        assert_eq!(snapshot(&app).await, before, "{}", app.engine);
        // An operator token is never a key either.
        let r = get_with_key(&base, "/v1/whoami", Some(&good)).await;
        assert_eq!((r.status, r.code()), (401, "invalid_api_key"));
        app.close().await;
    }
}

#[tokio::test]
async fn the_upsert_is_keyed_by_the_external_id_and_idempotency_keys_replay() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let body = json!({"name": "Globex", "plan": "professional", "metadata": {"seats": 5}});
        let path = "/v1/admin/tenants/globex-1";
        let first = admin(&base, &op, "PUT", path, Some(body.clone()), None).await;
        assert_eq!(first.status, 201, "{:?}", first.body);
        let again = admin(&base, &op, "PUT", path, Some(body.clone()), None).await;
        assert_eq!(again.status, 200);
        assert_eq!(first.body, again.body, "same body both times");
        assert!(first.body["id"].as_str().unwrap().starts_with("org_"));
        assert_eq!(first.body["slug"], "globex");
        // Another SaaS tenant of the same name gets its own, unique slug.
        let other = admin(
            &base,
            &op,
            "PUT",
            "/v1/admin/tenants/globex-2",
            Some(body),
            None,
        )
        .await;
        assert_eq!(other.status, 201);
        assert_ne!(other.body["slug"], first.body["slug"]);

        // A concurrent pair with one Idempotency-Key: one operation, the same answer twice.
        let body = json!({"name": "Initech", "plan": "enterprise"});
        let path = "/v1/admin/tenants/initech";
        let (a, b) = tokio::join!(
            admin(&base, &op, "PUT", path, Some(body.clone()), Some("idem-1")),
            admin(&base, &op, "PUT", path, Some(body.clone()), Some("idem-1")),
        );
        assert_eq!(
            (a.status, b.status),
            (201, 201),
            "{:?} {:?}",
            a.body,
            b.body
        );
        assert_eq!(a.body, b.body);
        let replayed = [&a, &b]
            .iter()
            .filter(|r| r.header("idempotent-replayed").is_some())
            .count();
        assert_eq!(replayed, 1);
        let created = app
            .scalar_i64(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'tenant.created' \
                 AND details LIKE '%initech%'",
            )
            .await;
        assert_eq!(created, 1, "{}", app.engine);
        let audited = app
            .scalar_text(
                "SELECT actor || ' ' || details FROM audit_events \
                 WHERE action = 'tenant.created' AND details LIKE '%initech%'",
            )
            .await;
        assert!(audited.starts_with("operator:t-"), "{audited}");
        assert!(audited.contains("idem-1"), "{audited}");
        // The same key with another body is refused.
        let changed = json!({"name": "Initech", "plan": "professional"});
        let r = admin(&base, &op, "PUT", path, Some(changed), Some("idem-1")).await;
        assert_eq!((r.status, r.code()), (422, "idempotency_key_reused"));
        app.close().await;
    }
}

#[tokio::test]
async fn members_follow_the_saas_user_id_and_the_last_owner_stays() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let t = "/v1/admin/tenants/hooli";
        let body = json!({"name": "Hooli", "plan": "professional"});
        assert_eq!(
            admin(&base, &op, "PUT", t, Some(body), None).await.status,
            201
        );
        let m = format!("{t}/members/user-42");
        let owner = json!({"email": "gavin@example.com", "name": "Gavin", "role": "owner"});
        let r = admin(&base, &op, "PUT", &m, Some(owner), None).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        // The email changes, the person stays.
        let moved = json!({"email": "gavin@hooli.example", "name": "Gavin B", "role": "owner"});
        let r = admin(&base, &op, "PUT", &m, Some(moved), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["email"], "gavin@hooli.example");
        let people = app
            .scalar_i64("SELECT COUNT(*) FROM users WHERE external_id = 'user-42'")
            .await;
        assert_eq!(people, 1);
        // The last owner can be neither demoted nor removed.
        let demote = json!({"email": "gavin@hooli.example", "name": "Gavin B", "role": "admin"});
        let r = admin(&base, &op, "PUT", &m, Some(demote), None).await;
        assert_eq!(r.status, 409, "{:?}", r.body);
        let r = admin(&base, &op, "DELETE", &m, None, None).await;
        assert_eq!(r.status, 409);
        let list = admin(&base, &op, "GET", &format!("{t}/members"), None, None).await;
        assert_eq!(list.body["data"][0]["external_id"], "user-42");
        assert_eq!(list.body["data"][0]["role"], "owner");
        app.close().await;
    }
}

#[tokio::test]
async fn deleting_a_tenant_revokes_its_keys_and_keeps_its_audit_log() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let t = "/v1/admin/tenants/umbrella";
        let body = json!({"name": "Umbrella", "plan": "professional"});
        assert_eq!(
            admin(&base, &op, "PUT", t, Some(body), None).await.status,
            201
        );
        let slug = app
            .scalar_text("SELECT slug FROM tenants WHERE external_id = 'umbrella'")
            .await;
        let key = app.make_key(&slug, &["keys:read"], Mode::Live, "").await;
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&key.secret))
                .await
                .status,
            200
        );
        let r = admin(&base, &op, "DELETE", t, None, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["keys_revoked"], 1);
        assert_eq!(r.body["tenant"]["status"], "deleted");
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!((r.status, r.code()), (401, "key_revoked"));
        let audit = admin(&base, &op, "GET", &format!("{t}/audit-events"), None, None).await;
        let actions: Vec<&str> = audit.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"tenant.deleted"), "{actions:?}");
        assert!(actions.contains(&"api_key.revoked"), "{actions:?}");
        // A deleted tenant is not brought back by a PUT.
        let body = json!({"name": "Umbrella", "plan": "professional"});
        let r = admin(&base, &op, "PUT", t, Some(body), None).await;
        assert_eq!((r.status, r.code()), (409, "tenant_deleted"));
        app.close().await;
    }
}

#[tokio::test]
async fn wrong_operator_tokens_are_throttled_per_address() {
    let app = TestApp::with_settings(&engines()[0], |s| s.failed_auth_per_minute = 5).await;
    let base = app.serve().await;
    let good = token(&app, &[]).await;
    // The last character changed (to one it is not), so the checksum no longer matches.
    let last = if good.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &good[..good.len() - 1]);
    let codes: Vec<u16> = futures_util::future::join_all(
        (0..8).map(|_| admin(&base, &wrong, "GET", "/v1/admin/tenants", None, None)),
    )
    .await
    .iter()
    .map(|r| r.status)
    .collect();
    assert!(codes.contains(&429), "{codes:?}");
    // Past the limit even the right token waits: a guesser learns nothing from the answer.
    let r = admin(&base, &good, "GET", "/v1/admin/tenants", None, None).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    app.close().await;
}
