//! Key lifecycle (issue 10) over real HTTP on every engine: rolling with an overlap (the old key
//! stops on its own, moved by the store's clock, never a sleep), lineage, refusals, rights of a
//! key that rolls, disable and re-enable, the status filters, and the audit trail of each step
//! with no secret in it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use latchkey_domain::keys::Mode;
use serde_json::{json, Value};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

async fn whoami(base: &str, key: &str) -> HttpResp {
    get_with_key(base, "/v1/whoami", Some(key)).await
}

async fn roll(base: &str, caller: &str, id: &str, overlap: &str) -> HttpResp {
    api(
        base,
        "POST",
        &format!("/v1/keys/{id}/roll"),
        caller,
        Some(json!({ "overlap": overlap })),
    )
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql).await
}

/// A key of Acme expiring at the end of the day after tomorrow, made as the operator would.
async fn expiring_key(app: &TestApp, scopes: &[&str]) -> TestKey {
    use latchkey_domain::time::civil_from_days;
    let days = store::db::now_ms().div_euclid(86_400_000) + 2;
    let (y, m, d) = civil_from_days(days);
    app.make_key_from(
        "acme",
        latchkey_domain::views::NewKey {
            name: "expiring".into(),
            description: "soon".into(),
            mode: Some(Mode::Live),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            allowlist: String::new(),
            expires_on: format!("{y:04}-{m:02}-{d:02}"),
            resources: Vec::new(),
        },
    )
    .await
}

#[tokio::test]
async fn rolling_now_stops_the_old_key_on_its_next_request_and_the_new_one_works() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let old = app
            .make_key("acme", &["keys:read"], Mode::Live, "10.0.0.0/8\n127.0.0.1")
            .await;
        assert_eq!(whoami(&base, &old.secret).await.status, 200, "cached now");
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "keys/roll",
                json!({ "id": old.id, "overlap": "now" }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        let new_secret = body["created"]["secret"].as_str().unwrap().to_owned();
        let new_id = body["created"]["key"]["id"].as_str().unwrap().to_owned();
        assert!(new_secret.starts_with("lk_live_"));
        assert_eq!(header_value(&r, "cache-control"), "no-store");
        // The replacement has the old key's rights; each records the other.
        let new = &body["created"]["key"];
        assert_eq!(new["scopes"], json!(["keys:read"]));
        assert_eq!(new["mode"], "live");
        assert_eq!(new["allowlist"], json!(["10.0.0.0/8", "127.0.0.1/32"]));
        assert_eq!(new["rolled_from"], json!(old.id));
        assert_eq!(body["old"]["rolled_to"], json!(new_id));

        let r = whoami(&base, &old.secret).await;
        assert_eq!((r.status, r.code()), (401, "key_expired"));
        assert_eq!(whoami(&base, &new_secret).await.status, 200);
        // The secret appears in no audit event; the roll is recorded with both ids.
        let leaked = count(
            &app,
            &format!("SELECT COUNT(*) FROM audit_events WHERE details LIKE '%{new_secret}%'"),
        )
        .await;
        assert_eq!(leaked, 0);
        let details = app
            .scalar_text(&format!(
                "SELECT details FROM audit_events WHERE action = 'api_key.rolled' AND target_id = '{}'",
                old.id
            ))
            .await;
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["new_key"], json!(new_id));
        assert_eq!(details["overlap"], "now");
        let created = count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'api_key.created' AND target_id = '{new_id}'"
            ),
        )
        .await;
        assert_eq!(created, 1);
        app
    })
    .await;
}

fn header_value(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_hour_of_overlap_keeps_both_keys_until_the_clock_passes_it() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let old = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = roll(&base, &admin.secret, &old.id, "1h").await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let new_secret = r.body["secret"].as_str().unwrap().to_owned();
        assert_eq!(r.body["replaced"]["id"], json!(old.id));
        assert_eq!(r.body["replaced"]["status"], "active");
        assert!(r.body["replaced"]["expires_at"].as_i64().is_some());
        assert_eq!(whoami(&base, &old.secret).await.status, 200);
        assert_eq!(whoami(&base, &new_secret).await.status, 200);

        app.state.db.clock.advance(HOUR - Duration::from_secs(60));
        assert_eq!(
            whoami(&base, &old.secret).await.status,
            200,
            "inside the hour"
        );
        app.state.db.clock.advance(Duration::from_secs(61));
        let r = whoami(&base, &old.secret).await;
        assert_eq!((r.status, r.code()), (401, "key_expired"));
        assert_eq!(whoami(&base, &new_secret).await.status, 200);
        // The list says so too, the moment the time passed.
        let r = get_with_key(&base, &format!("/v1/keys/{}", old.id), Some(&admin.secret)).await;
        assert_eq!(r.body["status"], "expired");
        app
    })
    .await;
}

#[tokio::test]
async fn an_overlap_never_outlasts_the_old_keys_own_expiry() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let old = expiring_key(&app, &["keys:read"]).await;
        let own = count(
            &app,
            &format!(
                "SELECT expires_at FROM api_keys WHERE public_id = '{}'",
                old.id
            ),
        )
        .await;
        let r = roll(&base, &admin.secret, &old.id, "7d").await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["replaced"]["expires_at"], json!(own), "capped");
        assert_eq!(
            r.body["key"]["expires_at"],
            json!(own),
            "the new key keeps the expiry"
        );
        assert_eq!(r.body["key"]["description"], "soon");
        app
    })
    .await;
}

#[tokio::test]
async fn a_rolled_revoked_or_expired_key_cannot_be_rolled() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let old = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = roll(&base, &admin.secret, &old.id, "24h").await;
        assert_eq!(r.status, 201);
        let new_id = r.body["key"]["id"].as_str().unwrap().to_owned();
        let keys_before = count(&app, "SELECT COUNT(*) FROM api_keys").await;
        let r = roll(&base, &admin.secret, &old.id, "24h").await;
        assert_eq!((r.status, r.code()), (409, "conflict"), "{:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&new_id),
            "says which key to roll: {message}"
        );

        let revoked = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = api(
            &base,
            "DELETE",
            &format!("/v1/keys/{}", revoked.id),
            &admin.secret,
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        let r = roll(&base, &admin.secret, &revoked.id, "now").await;
        assert_eq!(r.status, 409);
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("create a new key"));

        let expiring = expiring_key(&app, &["keys:read"]).await;
        app.state.db.clock.advance(Duration::from_secs(4 * 86_400));
        let r = roll(&base, &admin.secret, &expiring.id, "now").await;
        assert_eq!(r.status, 409, "{:?}", r.body);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM api_keys").await,
            keys_before + 2
        );
        app
    })
    .await;
}

#[tokio::test]
async fn of_two_rolls_at_once_exactly_one_succeeds() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let old = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let before = count(&app, "SELECT COUNT(*) FROM api_keys").await;
        let (a, b) = tokio::join!(
            roll(&base, &admin.secret, &old.id, "1h"),
            roll(&base, &admin.secret, &old.id, "1h")
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{:?} {:?}", a.body, b.body);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM api_keys").await,
            before + 1
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_key_rolls_only_keys_it_covers() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let test_writer = app.make_key("acme", &["keys:write"], Mode::Test, "").await;
        let live = app.make_key("acme", &["keys:write"], Mode::Live, "").await;
        let before = count(&app, "SELECT COUNT(*) FROM api_keys").await;
        // A test key cannot roll a live key: to it, the key is not there.
        let r = roll(&base, &test_writer.secret, &live.id, "now").await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        // Nor can a key roll a key holding a scope it lacks.
        let writer = app.make_key("acme", &["keys:write"], Mode::Live, "").await;
        let auditor = app
            .make_key("acme", &["keys:write", "audit:read"], Mode::Live, "")
            .await;
        let r = roll(&base, &writer.secret, &auditor.id, "now").await;
        assert_eq!((r.status, r.code()), (404, "not_found"));
        // Nor one whose allowlist is wider than its own.
        let fenced = app
            .make_key("acme", &["keys:write"], Mode::Live, "127.0.0.1")
            .await;
        let open = app.make_key("acme", &["keys:write"], Mode::Live, "").await;
        let r = roll(&base, &fenced.secret, &open.id, "now").await;
        assert_eq!(
            (r.status, r.code()),
            (422, "validation_failed"),
            "{:?}",
            r.body
        );
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM api_keys").await,
            before + 4
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM api_keys WHERE rolled_to IS NOT NULL"
            )
            .await,
            0
        );
        // Without keys:write, no roll at all; an unknown overlap is a bad request.
        let reader = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = roll(&base, &reader.secret, &reader.id, "now").await;
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        let r = roll(&base, &writer.secret, &writer.id, "soon").await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        // A key may roll itself: the replacement has its own rights, nothing more.
        let r = roll(&base, &writer.secret, &writer.id, "now").await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["key"]["scopes"], json!(["keys:write"]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_disabled_key_is_refused_until_enabled_again_and_revoked_stays_final() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let key = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        assert_eq!(whoami(&base, &key.secret).await.status, 200);
        let path = format!("/v1/keys/{}", key.id);
        let r = api(&base, "PATCH", &path, &admin.secret, Some(json!({ "enabled": false }))).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["status"], "disabled");
        let r = whoami(&base, &key.secret).await;
        assert_eq!((r.status, r.code()), (401, "key_disabled"));
        // Re-enabled in the UI: the very next request works.
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "keys/set_enabled",
                json!({ "id": key.id, "enabled": true }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["status"], "active");
        assert_eq!(whoami(&base, &key.secret).await.status, 200);
        for action in ["api_key.disabled", "api_key.enabled"] {
            let n = count(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND target_id = '{}'",
                    key.id
                ),
            )
            .await;
            assert_eq!(n, 1, "{action}");
        }
        // A member may not; a revoked key cannot be enabled.
        let member = app.sign_in("member@acme.test").await;
        let r = app
            .call_json(
                "keys/set_enabled",
                json!({ "id": key.id, "enabled": false }),
                Some(&member),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = api(&base, "DELETE", &path, &admin.secret, None).await;
        assert_eq!(r.status, 200);
        let r = api(&base, "PATCH", &path, &admin.secret, Some(json!({ "enabled": true }))).await;
        assert_eq!(r.status, 409, "{:?}", r.body);
        let r = whoami(&base, &key.secret).await;
        assert_eq!(r.code(), "key_revoked");
        app
    })
    .await;
}

#[tokio::test]
async fn the_list_filters_by_state_and_expired_appears_with_no_job() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let soon = expiring_key(&app, &["keys:read"]).await;
        let off = app.make_key("acme", &["keys:read"], Mode::Live, "").await;
        let r = api(
            &base,
            "PATCH",
            &format!("/v1/keys/{}", off.id),
            &admin.secret,
            Some(json!({ "enabled": false })),
        )
        .await;
        assert_eq!(r.status, 200);
        let ids = |status: &'static str| {
            let base = base.clone();
            let secret = admin.secret.clone();
            async move {
                let r = get_with_key(&base, &format!("/v1/keys?status={status}&limit=100"), Some(&secret))
                    .await;
                assert_eq!(r.status, 200, "{status}: {:?}", r.body);
                r.body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["id"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(ids("expiring").await, vec![soon.id.clone()]);
        assert_eq!(ids("disabled").await, vec![off.id.clone()]);
        assert!(ids("active").await.contains(&soon.id));
        assert!(!ids("active").await.contains(&off.id));
        assert!(ids("expired").await.is_empty());
        app.state.db.clock.advance(Duration::from_secs(4 * 86_400));
        assert_eq!(ids("expired").await, vec![soon.id.clone()]);
        assert!(ids("expiring").await.is_empty());
        let r = get_with_key(&base, "/v1/keys?status=soonish", Some(&admin.secret)).await;
        assert_eq!(r.status, 400);
        // The UI's list takes the same filter.
        let owner = app.sign_in("owner@acme.test").await;
        let r = app
            .call_json(
                "keys/list",
                json!({ "search": "", "include_revoked": false, "status": "disabled", "before": null }),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let listed: Vec<String> = r.json()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, vec![off.id.clone()]);
        app
    })
    .await;
}
