//! API keys through the real router on every engine: roles, tenancy, plan gate and limit,
//! validation, audit, and the secret appearing exactly once.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use latchkey_domain::keys;
use serde_json::{json, Value};

fn new_key(name: &str) -> Value {
    json!({ "new": { "name": name, "description": "billing sync", "mode": "test",
        "scopes": ["keys:read", "verifications:read"], "allowlist": "10.0.0.0/8\n2001:db8::/32",
        "expires_on": "" } })
}

async fn create(app: &TestApp, cookie: &str, name: &str) -> Value {
    let r = app
        .call_json("keys/create", new_key(name), Some(cookie))
        .await;
    assert_eq!(r.status, StatusCode::OK, "create: {}", r.body);
    r.json()
}

/// Adds a second Professional tenant with its own owner.
async fn second_tenant(app: &TestApp) -> String {
    use store::tenants::*;
    let db = &app.state.db;
    let t = create_tenant(db, "beta", "Beta Corp", latchkey_domain::Plan::Professional)
        .await
        .unwrap();
    let u = store::auth::create_user(db, "owner@beta.test", "Bea Beta", PASSWORD)
        .await
        .unwrap();
    add_member(
        db,
        t,
        u,
        latchkey_domain::Role::Owner,
        &store::audit::Actor::named("test"),
    )
    .await
    .unwrap();
    app.sign_in("owner@beta.test").await
}

async fn counts(app: &TestApp) -> (i64, i64, String) {
    (
        app.scalar_i64("SELECT COUNT(*) FROM api_keys").await,
        app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'api_key.%'")
            .await,
        app.scalar_text(
            "SELECT name || '/' || status || '/' || allowlist FROM api_keys ORDER BY id LIMIT 1",
        )
        .await,
    )
}

#[tokio::test]
async fn create_returns_the_secret_once_and_stores_only_a_digest() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let created = create(&app, &owner, "Billing sync").await;
        let secret = created["secret"].as_str().unwrap().to_owned();
        let parsed = keys::parse(&secret).expect("well-formed secret");
        assert_eq!(parsed.mode, keys::Mode::Test);
        let id = created["key"]["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("key_"));
        assert_eq!(
            created["key"]["scopes"],
            json!(["keys:read", "verifications:read"])
        );
        assert_eq!(
            created["key"]["allowlist"],
            json!(["10.0.0.0/8", "2001:db8::/32"])
        );
        assert_eq!(created["key"]["created_by"], "Olivia Owner");
        let masked = created["key"]["masked"].as_str().unwrap();
        assert!(masked.starts_with("lk_test_") && masked.contains('…') && !secret.contains(masked));

        // Storage holds the HMAC digest under the pepper, never the key.
        let digest = app.scalar_text("SELECT digest FROM api_keys").await;
        assert_eq!(
            digest,
            keys::Digest::of(&app.state.pepper, &secret).to_hex()
        );
        assert_eq!(app.scalar_i64("SELECT hash_version FROM api_keys").await, 1);

        // Nothing later carries the secret: list, detail, pages, audit, any table.
        let list = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": true, "before": null}),
                Some(&owner),
            )
            .await;
        assert!(list.body.contains(&id) && !list.body.contains(&secret));
        let detail = app
            .call_json("keys/get", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(detail.status, StatusCode::OK);
        assert!(!detail.body.contains(&secret));
        for page in ["/keys".to_owned(), format!("/keys/{id}")] {
            let html = app.get(&page, Some(&owner)).await;
            assert_eq!(html.status, StatusCode::OK, "{page}");
            assert!(html.body.contains("Billing sync"), "{page}");
            assert!(!html.body.contains(&secret), "{page} leaks the secret");
        }
        let audit = app
            .scalar_text("SELECT details FROM audit_events WHERE action = 'api_key.created'")
            .await;
        let details: Value = serde_json::from_str(&audit).unwrap();
        assert_eq!(details["mode"], "test");
        assert_eq!(
            details["scopes"],
            json!(["keys:read", "verifications:read"])
        );
        assert!(!audit.contains(&secret));
        assert_no_secret_in_database(&app, &secret).await;
        app
    })
    .await;
}

/// Reads every text column of every table and looks for the plaintext.
async fn assert_no_secret_in_database(app: &TestApp, secret: &str) {
    use sqlx::Row;
    let random_part = &secret[8..40];
    for (table, cols) in [
        ("api_keys", "public_id || name || description || scopes || allowlist || digest || masked || created_by_name"),
        ("audit_events", "actor || action || COALESCE(target_id, '') || details"),
        ("sessions", "token_hash"),
        ("users", "email || name || password_hash"),
        ("tenants", "slug || name || plan"),
    ] {
        let rows = sqlx::query(&format!("SELECT {cols} AS t FROM {table}"))
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
        for r in rows {
            let t: String = r.try_get("t").unwrap();
            assert!(!t.contains(random_part), "{table} holds the secret");
        }
    }
}

#[tokio::test]
async fn every_key_function_refuses_those_who_may_not_and_changes_nothing() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let id = create(&app, &owner, "Payments").await["key"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = counts(&app).await;

        let member = app.sign_in("member@acme.test").await;
        let viewer = app.sign_in("viewer@acme.test").await;
        let stranger = second_tenant(&app).await;
        let starter = app.sign_in("owner@starter.test").await;

        let list = json!({"search": "", "include_revoked": true, "before": null});
        let get = json!({"id": id});
        let update =
            json!({"edit": {"id": id, "name": "Hijacked", "description": "", "allowlist": ""}});
        let revoke = json!({"id": id, "reason": "mine now"});

        // Members read, never write.
        let r = app
            .call_json("keys/list", list.clone(), Some(&member))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["can_manage"], false);
        assert_eq!(
            app.call_json("keys/get", get.clone(), Some(&member))
                .await
                .status,
            StatusCode::OK
        );
        for (who, cookie, read, write) in [
            ("member", &member, StatusCode::OK, StatusCode::FORBIDDEN),
            (
                "viewer",
                &viewer,
                StatusCode::FORBIDDEN,
                StatusCode::FORBIDDEN,
            ),
        ] {
            assert_eq!(
                app.call_json("keys/list", list.clone(), Some(cookie))
                    .await
                    .status,
                read,
                "{who} list"
            );
            assert_eq!(
                app.call_json("keys/get", get.clone(), Some(cookie))
                    .await
                    .status,
                read,
                "{who} get"
            );
            for (f, body) in [
                ("keys/create", new_key("x")),
                ("keys/update", update.clone()),
                ("keys/revoke", revoke.clone()),
            ] {
                let r = app.call_json(f, body, Some(cookie)).await;
                assert_eq!(r.status, write, "{who} {f}: {}", r.body);
            }
        }
        // The Starter owner lists only their own (suspended) tenant's keys, is told about the
        // plan for creating and editing, and cannot find Acme's key to read or revoke it.
        let r = app
            .call_json("keys/list", list.clone(), Some(&starter))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(&id));
        assert_eq!(r.json()["suspended"], true);
        for f in ["keys/create", "keys/update"] {
            let body = if f == "keys/create" {
                new_key("x")
            } else {
                update.clone()
            };
            let r = app.call_json(f, body, Some(&starter)).await;
            assert_eq!(r.json(), json!("PlanRequired"), "starter owner {f}");
        }
        for (f, body) in [("keys/get", get.clone()), ("keys/revoke", revoke.clone())] {
            let r = app.call_json(f, body, Some(&starter)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "starter owner {f}");
        }

        // Another tenant's owner cannot see or touch Acme's key: it does not exist for them.
        let r = app
            .call_json("keys/list", list.clone(), Some(&stranger))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(&id));
        for (f, body) in [
            ("keys/get", get.clone()),
            ("keys/update", update.clone()),
            ("keys/revoke", revoke.clone()),
        ] {
            let r = app.call_json(f, body, Some(&stranger)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "stranger {f}");
        }
        // And without a session, nothing at all.
        let r = app.call_json("keys/revoke", revoke.clone(), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        assert_eq!(
            counts(&app).await,
            before,
            "{}: something changed",
            app.engine
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_plan_limit_holds_under_concurrent_creates() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let tenant = app
            .scalar_i64("SELECT id FROM tenants WHERE slug = 'acme'")
            .await;
        let limit = latchkey_domain::Plan::Professional.limits().max_active_keys;
        for i in 0..limit - 1 {
            store::keys::create(
                &app.state.db,
                &app.state.pepper,
                &app.state.settings.scope_catalogue,
                tenant,
                latchkey_domain::Plan::Professional,
                &store::audit::Actor::operator(),
                latchkey_domain::views::NewKey {
                    name: format!("k{i}"),
                    scopes: vec!["*".into()],
                    ..Default::default()
                },
                None,
                None,
                &[],
            )
            .await
            .unwrap();
        }
        // Six creates race for the last slot.
        let calls = (0..6).map(|i| {
            let app = &app;
            let owner = owner.clone();
            async move {
                app.call_json("keys/create", new_key(&format!("race {i}")), Some(&owner))
                    .await
            }
        });
        let results = futures_util::future::join_all(calls).await;
        let ok = results
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        let conflict: Vec<_> = results
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
            .collect();
        assert_eq!(
            ok,
            1,
            "{}: {:?}",
            app.engine,
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(conflict.len(), 5);
        assert!(conflict[0].body.contains("Revoke a key") && conflict[0].body.contains("upgrade"));
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM api_keys WHERE status = 'active'")
                .await,
            i64::from(limit)
        );
        // Revoking one frees a slot.
        let id = app
            .scalar_text("SELECT public_id FROM api_keys ORDER BY id LIMIT 1")
            .await;
        let r = app
            .call_json("keys/revoke", json!({"id": id, "reason": ""}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            app.call_json("keys/create", new_key("after"), Some(&owner))
                .await
                .status,
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_creates_nothing() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let body = json!({ "new": { "name": " ", "description": "", "mode": "live",
            "scopes": ["admin:everything"], "allowlist": "10.0.0.0/8\n10.0.0.0/33\nnot-an-ip",
            "expires_on": "2020-01-01" } });
        let r = app.call_json("keys/create", body, Some(&owner)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let errs = r.json()["Validation"].as_array().unwrap().clone();
        let fields: Vec<&str> = errs.iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"name"));
        assert!(fields.contains(&"scopes"));
        assert!(fields.contains(&"expires_on"));
        let allow: Vec<&str> = errs
            .iter()
            .filter(|e| e["field"] == "allowlist")
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(allow.len(), 2, "{allow:?}");
        assert!(allow[0].starts_with("Line 2") && allow[1].starts_with("Line 3"));
        let long = "x".repeat(101);
        let r = app
            .call_json("keys/create", new_key(&long), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM api_keys").await, 0);
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'api_key.%'")
                .await,
            0
        );
        app
    })
    .await;
}

#[tokio::test]
async fn edit_changes_only_name_description_and_allowlist_and_is_audited() {
    on_every_engine(|app| async move {
        let admin = app.sign_in("admin@acme.test").await;
        let id = create(&app, &admin, "Old name").await["key"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Extra fields (scopes, mode) are not part of an edit and are ignored.
        let r = app
            .call_json(
                "keys/update",
                json!({"edit": {"id": id, "name": "New name", "description": "moved",
                    "allowlist": "192.168.0.1", "scopes": ["*"], "mode": "live"}}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let k = r.json();
        assert_eq!(k["name"], "New name");
        assert_eq!(k["allowlist"], json!(["192.168.0.1/32"]));
        assert_eq!(k["scopes"], json!(["keys:read", "verifications:read"]));
        assert_eq!(k["mode"], "test");
        let details: Value = serde_json::from_str(
            &app.scalar_text("SELECT details FROM audit_events WHERE action = 'api_key.updated'")
                .await,
        )
        .unwrap();
        assert_eq!(
            details["changes"]["name"],
            json!({"from": "Old name", "to": "New name"})
        );
        assert!(details["changes"]["allowlist"].is_object());
        assert_eq!(
            app.scalar_text("SELECT actor FROM audit_events WHERE action = 'api_key.updated'")
                .await,
            "admin@acme.test"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn revoke_takes_effect_at_once_and_hides_the_key_by_default() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let id = create(&app, &owner, "Doomed").await["key"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        create(&app, &owner, "Survivor").await;
        let r = app
            .call_json(
                "keys/revoke",
                json!({"id": id, "reason": "leaked in a log"}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["status"], "revoked");
        assert_eq!(r.json()["revoked_by"], "Olivia Owner");
        let active = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": false, "before": null}),
                Some(&owner),
            )
            .await;
        assert!(!active.body.contains(&id));
        assert!(active.body.contains("Survivor"));
        let all = app
            .call_json(
                "keys/list",
                json!({"search": "", "include_revoked": true, "before": null}),
                Some(&owner),
            )
            .await;
        assert!(all.body.contains(&id));
        let search = app
            .call_json(
                "keys/list",
                json!({"search": "surv", "include_revoked": true, "before": null}),
                Some(&owner),
            )
            .await;
        assert_eq!(search.json()["keys"].as_array().unwrap().len(), 1);
        let reason = app
            .scalar_text("SELECT details FROM audit_events WHERE action = 'api_key.revoked'")
            .await;
        assert!(reason.contains("leaked in a log"));
        app
    })
    .await;
}

#[tokio::test]
async fn keyset_paging_walks_every_key_once() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        sqlx::query("UPDATE tenants SET plan = 'enterprise' WHERE slug = 'acme'")
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let tenant = app.scalar_i64("SELECT id FROM tenants WHERE slug = 'acme'").await;
        for i in 0..120 {
            sqlx::query(
                "INSERT INTO api_keys (public_id, tenant_id, name, mode, scopes, digest, hash_version, \
                 masked, status, created_at, created_by_name) \
                 VALUES ($1, $2, $3, 'test', '*', $4, 1, 'lk_test_…', 'active', 0, 'seed')",
            )
            .bind(format!("key_{i:04}"))
            .bind(tenant)
            .bind(format!("seed {i}"))
            .bind(format!("digest{i}"))
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut before = Value::Null;
        loop {
            let r = app
                .call_json("keys/list", json!({"search": "", "include_revoked": false, "before": before}), Some(&owner))
                .await
                .json();
            for k in r["keys"].as_array().unwrap() {
                seen.push(k["id"].as_str().unwrap().to_owned());
            }
            if r["next_before"].is_null() {
                break;
            }
            before = r["next_before"].clone();
        }
        assert_eq!(seen.len(), 120);
        assert_eq!(seen[0], "key_0119");
        seen.dedup();
        assert_eq!(seen.len(), 120);
        app
    })
    .await;
}

#[tokio::test]
async fn a_suspended_tenant_lists_and_revokes_its_keys_and_an_upgrade_revives_no_revoked_key() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let admin = app.sign_in("admin@acme.test").await;
        let member = app.sign_in("member@acme.test").await;
        let kept = app
            .make_key("acme", &["*"], latchkey_domain::keys::Mode::Test, "")
            .await;
        let plan = |p: &'static str| {
            let owner = owner.clone();
            let app = &app;
            async move {
                let r = app.call("change_plan", &[("plan", p)], Some(&owner)).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            }
        };
        plan("starter").await;
        let list = json!({"search": "", "include_revoked": true, "before": null});
        for who in [&owner, &admin] {
            let r = app.call_json("keys/list", list.clone(), Some(who)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let page = r.json();
            assert_eq!(page["suspended"], true);
            assert_eq!(page["can_manage"], false);
            assert_eq!(page["can_revoke"], true);
            assert!(r.body.contains(&kept.id));
        }
        // Members see nothing of a suspended tenant's keys; nobody creates or edits there.
        let r = app
            .call_json("keys/list", list.clone(), Some(&member))
            .await;
        assert_eq!(r.json(), json!("PlanRequired"));
        let r = app
            .call_json(
                "keys/update",
                json!({"edit": {"id": kept.id, "name": "x", "description": "", "allowlist": ""}}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.json(), json!("PlanRequired"));
        let r = app
            .call_json(
                "keys/revoke",
                json!({"id": kept.id, "reason": "cleaning up"}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["status"], "revoked");
        // Upgrading restores suspended keys, never a revoked one.
        plan("professional").await;
        let r = app
            .send(
                axum::http::Request::get("/v1/whoami")
                    .header("authorization", format!("Bearer {}", kept.secret))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("key_revoked"), "{}", r.body);
        app
    })
    .await;
}
