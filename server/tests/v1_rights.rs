//! Keys act only within their own rights (SPEC §3, last bullet), over real HTTP on every engine:
//! a key reads, lists, edits and revokes only keys it covers (scopes and mode), a key it creates
//! inherits its allowlist and expiry bounds, no key widens an allowlist past its own, and PATCH
//! refuses immutable and unknown fields instead of ignoring them. Each test checks what the
//! caller sees and that storage did not change.
#![allow(clippy::unwrap_used)]

mod common;

use common::api as call;
use common::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::time::{civil_from_days, parse_date_end_ms};
use serde_json::{json, Value};

const MS_PER_DAY: i64 = 86_400_000;

async fn column(app: &TestApp, id: &str, col: &str) -> String {
    app.scalar_text(&format!(
        "SELECT {col} FROM api_keys WHERE public_id = '{id}'"
    ))
    .await
}

async fn expires_at(app: &TestApp, id: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COALESCE(expires_at, -1) FROM api_keys WHERE public_id = '{id}'"
    ))
    .await
}

async fn events(app: &TestApp, id: &str, action: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE target_id = '{id}' AND action = '{action}'"
    ))
    .await
}

/// `YYYY-MM-DD`, `days` after today (UTC).
fn date_in(days: i64) -> String {
    let (y, m, d) = civil_from_days(store::db::now_ms().div_euclid(MS_PER_DAY) + days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Sets a key's expiry in storage, as the operator would (before its first use: no cache yet).
async fn set_expiry(app: &TestApp, id: &str, at: i64) {
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE public_id = $2")
        .bind(at)
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

/// The answer to a key the caller does not cover: exactly another tenant's key's answer.
fn assert_hidden(r: &HttpResp, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (404, "not_found"),
        "{what}: {:?}",
        r.body
    );
}

#[tokio::test]
async fn test_key_cannot_revoke_a_live_key() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let live_admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        // Same scopes as the attacker: only the mode stands between them.
        let live_writer = app
            .make_key("acme", &["keys:write", "keys:read"], Mode::Live, "")
            .await;
        let attacker = app
            .make_key("acme", &["keys:write", "keys:read"], Mode::Test, "")
            .await;
        let test_peer = app.make_key("acme", &["keys:read"], Mode::Test, "").await;

        for victim in [&live_admin, &live_writer] {
            let path = format!("/v1/keys/{}", victim.id);
            let r = call(&base, "DELETE", &path, &attacker.secret, None).await;
            assert_hidden(&r, "revoke a live key");
            let r = call(&base, "GET", &path, &attacker.secret, None).await;
            assert_hidden(&r, "read a live key");
            assert_eq!(column(&app, &victim.id, "status").await, "active");
            assert_eq!(events(&app, &victim.id, "api_key.revoked").await, 0);
            let r = get_with_key(&base, "/v1/whoami", Some(&victim.secret)).await;
            assert_eq!(r.status, 200, "the live key still works: {:?}", r.body);
        }
        // The 404 is the one another tenant's key gets: nothing tells them apart.
        let elsewhere = app.make_key("starter-studio", &["*"], Mode::Test, "").await;
        let other = call(
            &base,
            "DELETE",
            &format!("/v1/keys/{}", elsewhere.id),
            &attacker.secret,
            None,
        )
        .await;
        let live = call(
            &base,
            "DELETE",
            &format!("/v1/keys/{}", live_admin.id),
            &attacker.secret,
            None,
        )
        .await;
        assert_eq!(
            other.body["error"]["message"],
            live.body["error"]["message"]
        );

        // A test key it covers it may revoke.
        let r = call(
            &base,
            "DELETE",
            &format!("/v1/keys/{}", test_peer.id),
            &attacker.secret,
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(column(&app, &test_peer.id, "status").await, "revoked");
        app
    })
    .await;
}

#[tokio::test]
async fn test_key_cannot_strip_a_live_wildcard_keys_allowlist() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let live = app.make_key("acme", &["*"], Mode::Live, "127.0.0.1").await;
        let attacker = app.make_key("acme", &["keys:write"], Mode::Test, "").await;
        let r = call(
            &base,
            "PATCH",
            &format!("/v1/keys/{}", live.id),
            &attacker.secret,
            Some(json!({"allowlist": []})),
        )
        .await;
        assert_hidden(&r, "strip a live key's allowlist");
        assert_eq!(column(&app, &live.id, "allowlist").await, "127.0.0.1/32");
        assert_eq!(events(&app, &live.id, "api_key.updated").await, 0);
        app
    })
    .await;
}

#[tokio::test]
async fn keys_write_without_audit_read_cannot_edit_an_audit_read_key() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let caller = app
            .make_key("acme", &["keys:write", "keys:read"], Mode::Live, "")
            .await;
        let auditor = app.make_key("acme", &["audit:read"], Mode::Live, "").await;
        let mixed = app
            .make_key("acme", &["keys:read", "audit:read"], Mode::Live, "")
            .await;
        let name = column(&app, &auditor.id, "name").await;

        for target in [&auditor, &mixed] {
            let path = format!("/v1/keys/{}", target.id);
            let before = column(&app, &target.id, "name").await;
            let r = call(
                &base,
                "PATCH",
                &path,
                &caller.secret,
                Some(json!({"name": "pwned", "allowlist": ["192.0.2.1"]})),
            )
            .await;
            assert_hidden(&r, "edit a key holding audit:read");
            let r = call(&base, "GET", &path, &caller.secret, None).await;
            assert_hidden(&r, "read a key holding audit:read");
            let r = call(&base, "DELETE", &path, &caller.secret, None).await;
            assert_hidden(&r, "revoke a key holding audit:read");
            assert_eq!(column(&app, &target.id, "name").await, before);
            assert_eq!(column(&app, &target.id, "allowlist").await, "");
            assert_eq!(column(&app, &target.id, "status").await, "active");
            assert_eq!(events(&app, &target.id, "api_key.updated").await, 0);
        }
        assert_eq!(column(&app, &auditor.id, "name").await, name);

        // Within its rights the same calls work: a live key holding only `keys:read`, a test
        // key (a live key may use both modes), and itself.
        let reader = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let tester = app.make_key("acme", &["keys:write"], Mode::Test, "").await;
        for target in [&reader, &tester, &caller] {
            let path = format!("/v1/keys/{}", target.id);
            let r = call(&base, "GET", &path, &caller.secret, None).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let r = call(
                &base,
                "PATCH",
                &path,
                &caller.secret,
                Some(json!({"description": "checked"})),
            )
            .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            assert_eq!(column(&app, &target.id, "description").await, "checked");
        }
        let r = call(
            &base,
            "DELETE",
            &format!("/v1/keys/{}", reader.id),
            &caller.secret,
            None,
        )
        .await;
        assert_eq!(r.body["status"], "revoked", "{:?}", r.body);
        app
    })
    .await;
}

#[tokio::test]
async fn a_test_key_lists_only_test_keys() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let lister = app
            .make_key("acme", &["keys:read", "keys:write"], Mode::Test, "")
            .await;
        let mut visible = vec![lister.id.clone()];
        let mut hidden = Vec::new();
        for i in 0..3 {
            visible.push(
                app.make_key("acme", &["keys:read"], Mode::Test, "")
                    .await
                    .id,
            );
            hidden.push(
                app.make_key("acme", &["keys:read"], Mode::Live, "")
                    .await
                    .id,
            );
            hidden.push(app.make_key("acme", &["*"], Mode::Live, "").await.id);
            if i == 1 {
                // Test mode, but scopes the lister does not hold.
                hidden.push(
                    app.make_key("acme", &["audit:read"], Mode::Test, "")
                        .await
                        .id,
                );
                hidden.push(app.make_key("acme", &["*"], Mode::Test, "").await.id);
            }
        }

        // Walk every page: the cursor still reaches the end although pages are filtered.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let path = match &cursor {
                Some(c) => format!("/v1/keys?limit=2&cursor={c}"),
                None => "/v1/keys?limit=2".to_owned(),
            };
            let r = get_with_key(&base, &path, Some(&lister.secret)).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let page = r.body["data"].as_array().unwrap();
            assert!(page.len() <= 2);
            for k in page {
                assert_eq!(k["mode"], "test", "{k}");
                seen.push(k["id"].as_str().unwrap().to_owned());
            }
            cursor = r.body["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        assert!(cursor.is_none(), "paging never ended");
        seen.sort();
        visible.sort();
        assert_eq!(seen, visible, "hidden keys: {hidden:?}");

        // A live `*` key sees them all.
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let r = get_with_key(&base, "/v1/keys?limit=100", Some(&admin.secret)).await;
        let all: Vec<&str> = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap())
            .collect();
        assert!(hidden.iter().all(|h| all.contains(&h.as_str())));
        assert_eq!(all.len(), visible.len() + hidden.len() + 1);
        app
    })
    .await;
}

#[tokio::test]
async fn a_created_key_inherits_the_creators_allowlist_and_expiry() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let creator = app
            .make_key(
                "acme",
                &["keys:write", "keys:read"],
                Mode::Test,
                "127.0.0.0/8\n10.0.0.0/8",
            )
            .await;
        let last_day = date_in(30);
        let creator_end = parse_date_end_ms(&last_day).unwrap();
        set_expiry(&app, &creator.id, creator_end).await;
        let count = || app.scalar_i64("SELECT COUNT(*) FROM api_keys");
        let post = |body: Value| call(&base, "POST", "/v1/keys", &creator.secret, Some(body));

        // Nothing asked: the creator's bounds.
        let r = post(json!({"name": "child", "scopes": ["keys:read"]})).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            r.body["key"]["allowlist"],
            json!(["127.0.0.0/8", "10.0.0.0/8"])
        );
        assert_eq!(r.body["key"]["expires_at"], creator_end);
        let child = r.body["key"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            column(&app, &child, "allowlist").await,
            "127.0.0.0/8\n10.0.0.0/8"
        );
        assert_eq!(expires_at(&app, &child).await, creator_end);

        // Narrower is fine.
        let earlier = date_in(10);
        let r = post(json!({"name": "narrow", "scopes": ["keys:read"],
            "allowlist": ["10.1.0.0/16", "127.0.0.1"], "expires_on": earlier}))
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            r.body["key"]["allowlist"],
            json!(["10.1.0.0/16", "127.0.0.1/32"])
        );
        assert_eq!(
            r.body["key"]["expires_at"],
            parse_date_end_ms(&earlier).unwrap()
        );

        // Wider is refused, per field, and nothing is written.
        let before = count().await;
        for (body, field) in [
            (
                json!({"name": "x", "scopes": ["keys:read"], "allowlist": ["192.0.2.0/24"]}),
                "allowlist",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "allowlist": ["10.0.0.0/7"]}),
                "allowlist",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "allowlist": []}),
                "allowlist",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "expires_on": date_in(31)}),
                "expires_on",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "expires_on": "2999-12-31"}),
                "expires_on",
            ),
        ] {
            let r = post(body.clone()).await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{body}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), vec![field.to_owned()], "{body}");
        }
        assert_eq!(count().await, before, "a refused create wrote something");

        // A creator without bounds passes none on.
        let free = app.make_key("acme", &["keys:write"], Mode::Test, "").await;
        let r = call(
            &base,
            "POST",
            "/v1/keys",
            &free.secret,
            Some(json!({"name": "free", "scopes": ["keys:write"]})),
        )
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["key"]["allowlist"], json!([]));
        assert_eq!(r.body["key"]["expires_at"], Value::Null);
        app
    })
    .await;
}

#[tokio::test]
async fn a_key_cannot_widen_its_own_allowlist() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let me = app
            .make_key(
                "acme",
                &["keys:write", "keys:read"],
                Mode::Test,
                "127.0.0.1",
            )
            .await;
        let peer = app.make_key("acme", &["keys:read"], Mode::Test, "").await;
        let own_end = parse_date_end_ms(&date_in(5)).unwrap();
        set_expiry(&app, &me.id, own_end).await;
        let patch = |id: String, body: Value| {
            let base = base.clone();
            let secret = me.secret.clone();
            async move {
                call(
                    &base,
                    "PATCH",
                    &format!("/v1/keys/{id}"),
                    &secret,
                    Some(body),
                )
                .await
            }
        };

        for wider in [
            json!([]),
            json!(["0.0.0.0/0"]),
            json!(["127.0.0.0/8"]),
            json!(["::1"]),
        ] {
            let r = patch(me.id.clone(), json!({"allowlist": wider})).await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{wider}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), vec!["allowlist".to_owned()]);
            // Nor may it hand a wider allowlist to a key it manages.
            let r = patch(peer.id.clone(), json!({"allowlist": wider})).await;
            assert_eq!(r.code(), "validation_failed", "{wider}: {:?}", r.body);
        }
        assert_eq!(column(&app, &me.id, "allowlist").await, "127.0.0.1/32");
        assert_eq!(column(&app, &peer.id, "allowlist").await, "");
        assert_eq!(events(&app, &me.id, "api_key.updated").await, 0);
        assert_eq!(events(&app, &peer.id, "api_key.updated").await, 0);

        // Nor extend its expiry: there is no such field.
        for body in [
            json!({"expires_on": "2999-12-31"}),
            json!({"expires_at": null}),
        ] {
            let r = patch(me.id.clone(), body.clone()).await;
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_request"),
                "{body}: {:?}",
                r.body
            );
        }
        assert_eq!(expires_at(&app, &me.id).await, own_end);

        // Within its own allowlist an edit works.
        let r = patch(peer.id.clone(), json!({"allowlist": ["127.0.0.1"]})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(column(&app, &peer.id, "allowlist").await, "127.0.0.1/32");
        app
    })
    .await;
}

#[tokio::test]
async fn patch_naming_scopes_or_mode_is_refused() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let target = app.make_key("acme", &["keys:read"], Mode::Test, "").await;
        let name = column(&app, &target.id, "name").await;
        let path = format!("/v1/keys/{}", target.id);
        for (body, named) in [
            (json!({"scopes": ["*"]}), vec!["scopes"]),
            (
                json!({"name": "renamed", "scopes": ["keys:read"]}),
                vec!["scopes"],
            ),
            (json!({"scopes": null}), vec!["scopes"]),
            (json!({"mode": "live"}), vec!["mode"]),
            (
                json!({"mode": "live", "scopes": ["*"]}),
                vec!["scopes", "mode"],
            ),
        ] {
            let r = call(&base, "PATCH", &path, &admin.secret, Some(body.clone())).await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{body}: {:?}",
                r.body
            );
            let mut got = r.fields();
            got.sort();
            let mut want: Vec<String> = named.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{body}");
            assert!(r.body["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("never change after creation"));
        }
        assert_eq!(column(&app, &target.id, "name").await, name);
        assert_eq!(column(&app, &target.id, "scopes").await, "keys:read");
        assert_eq!(column(&app, &target.id, "mode").await, "test");
        assert_eq!(events(&app, &target.id, "api_key.updated").await, 0);
        app
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let target = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let name = column(&app, &target.id, "name").await;
        let keys_before = app.scalar_i64("SELECT COUNT(*) FROM api_keys").await;

        for (body, field) in [
            (json!({"name": "renamed", "status": "revoked"}), "status"),
            (json!({"name": "renamed", "revoked_at": null}), "revoked_at"),
            (json!({"description": "x", "expires_at": 1}), "expires_at"),
        ] {
            let r = call(
                &base,
                "PATCH",
                &format!("/v1/keys/{}", target.id),
                &admin.secret,
                Some(body.clone()),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_request"),
                "{body}: {:?}",
                r.body
            );
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(message.contains(field), "{body}: {message}");
        }
        assert_eq!(column(&app, &target.id, "name").await, name);
        assert_eq!(column(&app, &target.id, "description").await, "");
        assert_eq!(events(&app, &target.id, "api_key.updated").await, 0);

        for (body, field) in [
            (
                json!({"name": "x", "scopes": ["keys:read"], "allowlists": ["10.0.0.0/8"]}),
                "allowlists",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "expires_at": 1}),
                "expires_at",
            ),
            (
                json!({"name": "x", "scopes": ["keys:read"], "tenant_id": 2}),
                "tenant_id",
            ),
        ] {
            let r = call(&base, "POST", "/v1/keys", &admin.secret, Some(body.clone())).await;
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_request"),
                "{body}: {:?}",
                r.body
            );
            assert!(
                r.body["error"]["message"].as_str().unwrap().contains(field),
                "{body}: {:?}",
                r.body
            );
        }
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM api_keys").await,
            keys_before,
            "a refused create wrote something"
        );
        app
    })
    .await;
}
