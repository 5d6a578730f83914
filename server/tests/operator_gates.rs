//! What the operator API changes for keys (issue 24): suspension refuses every key, the
//! tenant's metadata and rate reach host services, unmet requirements stop creating and
//! rolling on every surface, and resource-limited keys pass only what they cover. Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use common::operator::{admin, app, token, verify};
use common::*;
use latchkey_domain::keys::Mode;
use serde_json::json;

/// An operator tenant `ext` (professional) and its slug.
async fn tenant(
    app: &TestApp,
    base: &str,
    op: &str,
    ext: &str,
    extra: serde_json::Value,
) -> String {
    let mut body = json!({"name": format!("Tenant {ext}"), "plan": "professional"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let path = format!("/v1/admin/tenants/{ext}");
    let r = admin(base, op, "PUT", &path, Some(body), None).await;
    assert!(r.status == 200 || r.status == 201, "{:?}", r.body);
    app.scalar_text(&format!(
        "SELECT slug FROM tenants WHERE external_id = '{ext}'"
    ))
    .await
}

#[tokio::test]
async fn suspension_refuses_every_key_and_metadata_reaches_host_services() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let meta =
            json!({"metadata": {"entitlements": ["payouts"]}, "limits": {"rate_per_minute": 3}});
        let slug = tenant(&app, &base, &op, "acme-saas", meta.clone()).await;
        let key = app.make_key(&slug, &["keys:read"], Mode::Live, "").await;
        let v = verify(&base, &key.secret, None).await;
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["tenant"]["metadata"]["entitlements"][0], "payouts");
        assert_eq!(v["tenant"]["external_id"], "acme-saas");
        assert!(v["tenant"]["id"].as_str().unwrap().starts_with("org_"));
        // The operator's rate, not the plan's: the fourth call in the minute is refused.
        assert_eq!(v["rate_limit"]["limit"], 3);
        let who = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!(who.body["tenant"]["metadata"]["entitlements"][0], "payouts");
        assert_eq!(verify(&base, &key.secret, None).await["valid"], true);
        assert_eq!(
            verify(&base, &key.secret, None).await["code"],
            "rate_limited"
        );

        let mut suspended = meta.clone();
        suspended["status"] = json!("suspended");
        tenant(&app, &base, &op, "acme-saas", suspended).await;
        let v = verify(&base, &key.secret, None).await;
        assert_eq!(
            (v["valid"].clone(), v["code"].clone()),
            (json!(false), json!("tenant_suspended"))
        );
        let r = get_with_key(&base, "/v1/whoami", Some(&key.secret)).await;
        assert_eq!((r.status, r.code()), (403, "tenant_suspended"));
        // Its keys can still be listed and revoked (pages and CLI go through store).
        let tenant_id = app.tenant_id(&slug).await;
        let listed = store::keys::count_active(&app.state.db, tenant_id)
            .await
            .unwrap();
        assert_eq!(listed, 1);
        // Active again, with a new rate (a fresh budget): the same key works.
        let mut active = meta;
        active["limits"]["rate_per_minute"] = json!(1000);
        tenant(&app, &base, &op, "acme-saas", active).await;
        assert_eq!(verify(&base, &key.secret, None).await["valid"], true);
        app.close().await;
    }
}

#[tokio::test]
async fn unmet_requirements_stop_creating_and_rolling_everywhere() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let slug = tenant(&app, &base, &op, "gated", json!({})).await;
        let admin_key = app.make_key(&slug, &["*"], Mode::Live, "").await;
        let path = "/v1/admin/tenants/gated/requirements";
        let list = json!([
            {"id": "kyb", "label": "KYB review complete", "met": false},
            {"id": "payouts", "label": "Payouts enabled", "met": true},
        ]);
        let r = admin(&base, &op, "PUT", path, Some(list), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["pending"], json!(["KYB review complete"]));

        // `/v1`: create and roll.
        let new = json!({"name": "blocked", "scopes": ["keys:read"]});
        let r = api(
            &base,
            "POST",
            "/v1/keys",
            &admin_key.secret,
            Some(new.clone()),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (409, "requirements_pending"),
            "{:?}",
            r.body
        );
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KYB review complete"));
        let roll = format!("/v1/keys/{}/roll", admin_key.id);
        let r = api(
            &base,
            "POST",
            &roll,
            &admin_key.secret,
            Some(json!({"overlap": "now"})),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (409, "requirements_pending"),
            "{:?}",
            r.body
        );
        // Pages and the CLI share the store's gate.
        let tenant_id = app.tenant_id(&slug).await;
        let made = store::keys::create(
            &app.state.db,
            &app.state.pepper,
            &app.state.settings.scope_catalogue,
            tenant_id,
            latchkey_domain::Plan::Professional,
            &store::audit::Actor::operator(),
            latchkey_domain::views::NewKey {
                name: "page".into(),
                scopes: vec!["keys:read".into()],
                ..Default::default()
            },
            None,
            None,
            &[],
        )
        .await;
        assert!(
            matches!(&made, Err(latchkey_domain::error::AppError::RequirementsPending(p)) if p == &["KYB review complete".to_owned()]),
            "{made:?}"
        );
        // Off the runtime's thread: the pool must keep running while the CLI waits on storage.
        let (url, tenant) = (app.url.clone(), slug.clone());
        let out = tokio::task::spawn_blocking(move || {
            run_latchkey(
                &url,
                &[
                    "key",
                    "create",
                    "--tenant",
                    &tenant,
                    "--name",
                    "cli",
                    "--scope",
                    "keys:read",
                ],
            )
        })
        .await
        .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("KYB review complete"));
        // The existing key keeps working.
        assert_eq!(
            get_with_key(&base, "/v1/whoami", Some(&admin_key.secret))
                .await
                .status,
            200
        );

        let met = json!([{"id": "kyb", "label": "KYB review complete", "met": true}]);
        admin(&base, &op, "PUT", path, Some(met), None).await;
        let r = api(&base, "POST", "/v1/keys", &admin_key.secret, Some(new)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        app.close().await;
    }
}

#[tokio::test]
async fn a_resource_limited_key_passes_only_what_it_covers_and_fails_closed() {
    for engine in engines() {
        let app = app(&engine).await;
        let base = app.serve().await;
        let op = token(&app, &[]).await;
        let slug = tenant(&app, &base, &op, "bank", json!({})).await;
        for (id, name) in [("acct_1", "Operating ••1234"), ("acct_2", "Payroll ••9876")] {
            let path = format!("/v1/admin/tenants/bank/resources/account/{id}");
            let r = admin(
                &base,
                &op,
                "PUT",
                &path,
                Some(json!({ "name": name })),
                None,
            )
            .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        let r = admin(
            &base,
            &op,
            "PUT",
            "/v1/admin/tenants/bank/resources/vault/v1",
            Some(json!({"name": "x"})),
            None,
        )
        .await;
        assert_eq!((r.status, r.fields()), (422, vec!["type".to_owned()]));
        let root = app.make_key(&slug, &["*"], Mode::Live, "").await;
        let body = json!({
            "name": "payments", "scopes": ["keys:read", "keys:write"],
            "resources": [{"type": "account", "id": "acct_1"}],
        });
        let r = api(&base, "POST", "/v1/keys", &root.secret, Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let limited = r.body["secret"].as_str().unwrap().to_owned();

        assert_eq!(
            verify(&base, &limited, Some(("account", "acct_1"))).await["valid"],
            true
        );
        let v = verify(&base, &limited, Some(("account", "acct_2"))).await;
        assert_eq!(
            (v["valid"].clone(), v["code"].clone()),
            (json!(false), json!("resource_not_allowed"))
        );
        assert!(v["message"].as_str().unwrap().contains("account:acct_2"));
        assert_eq!(
            verify(&base, &limited, None).await["code"],
            "resource_required"
        );
        // An unlimited key covers any resource.
        assert_eq!(
            verify(&base, &root.secret, Some(("account", "acct_2"))).await["valid"],
            true
        );

        // A limited key mints only keys limited to what it covers.
        let unlimited = json!({"name": "wider", "scopes": ["keys:read"]});
        let r = api(&base, "POST", "/v1/keys", &limited, Some(unlimited)).await;
        assert_eq!(
            (r.status, r.fields()),
            (422, vec!["resources".to_owned()]),
            "{:?}",
            r.body
        );
        let other = json!({"name": "other", "scopes": ["keys:read"], "resources": [{"type": "account", "id": "acct_2"}]});
        let r = api(&base, "POST", "/v1/keys", &limited, Some(other)).await;
        assert_eq!((r.status, r.fields()), (422, vec!["resources".to_owned()]));
        let same = json!({"name": "same", "scopes": ["keys:read"], "resources": [{"type": "account", "id": "acct_1"}]});
        let r = api(&base, "POST", "/v1/keys", &limited, Some(same)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        // …and manages only keys within its own limit: the unlimited root is not its to see.
        let r = get_with_key(&base, &format!("/v1/keys/{}", root.id), Some(&limited)).await;
        assert_eq!(r.status, 404);

        // A deleted resource: the key refuses it at once, and stays limited (and active).
        let r = admin(
            &base,
            &op,
            "DELETE",
            "/v1/admin/tenants/bank/resources/account/acct_1",
            None,
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["keys_affected"], 2);
        let v = verify(&base, &limited, Some(("account", "acct_1"))).await;
        assert_eq!(v["code"], "resource_not_allowed", "{v}");
        assert_eq!(
            verify(&base, &limited, None).await["code"],
            "resource_required"
        );
        app.close().await;
    }
}
