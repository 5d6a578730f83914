//! Requests the OpenAPI document calls invalid are refused, never read as something wider: a
//! blank allowlist entry, an empty cursor, a blank expiry date. Over real HTTP on every engine;
//! each answer is checked for what the caller sees and storage for what it kept.
#![allow(clippy::unwrap_used)]

mod common;

use common::api as call;
use common::*;
use latchkey_domain::keys::Mode;
use serde_json::json;

async fn allowlist_of(app: &TestApp, id: &str) -> String {
    app.scalar_text(&format!(
        "SELECT allowlist FROM api_keys WHERE public_id = '{id}'"
    ))
    .await
}

#[tokio::test]
async fn a_blank_allowlist_entry_never_widens_a_key() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let narrow = app
            .make_key("acme", &["keys:read"], Mode::Live, "10.0.0.0/8")
            .await;
        let path = format!("/v1/keys/{}", narrow.id);
        for bad in [json!([""]), json!(["  "]), json!(["10.0.0.0/8", ""])] {
            let r = call(
                &base,
                "PATCH",
                &path,
                &admin.secret,
                Some(json!({ "allowlist": bad })),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{bad}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), ["allowlist"], "{bad}");
            assert_eq!(allowlist_of(&app, &narrow.id).await, "10.0.0.0/8", "{bad}");
        }
        // An entry with a line break inside would have become two entries.
        let r = call(
            &base,
            "PATCH",
            &path,
            &admin.secret,
            Some(json!({ "allowlist": ["10.0.0.1\n0.0.0.0/0"] })),
        )
        .await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        assert_eq!(allowlist_of(&app, &narrow.id).await, "10.0.0.0/8");

        let r = call(
            &base,
            "POST",
            "/v1/keys",
            &admin.secret,
            Some(json!({ "name": "blank", "scopes": ["keys:read"], "allowlist": [""] })),
        )
        .await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        assert_eq!(r.fields(), ["allowlist"]);

        // The empty list is how "any address" is said, and still works.
        let r = call(
            &base,
            "PATCH",
            &path,
            &admin.secret,
            Some(json!({ "allowlist": [] })),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(allowlist_of(&app, &narrow.id).await, "");
        app
    })
    .await;
}

#[tokio::test]
async fn an_empty_cursor_or_expiry_is_refused_not_read_as_omitted() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        for path in [
            "/v1/keys?cursor=",
            "/v1/audit-events?cursor=",
            "/v1/keys?cursor=%20",
        ] {
            let r = call(&base, "GET", path, &admin.secret, None).await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{path}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), ["cursor"], "{path}");
        }
        let r = call(&base, "GET", "/v1/keys?limit=1", &admin.secret, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);

        let before = app
            .scalar_i64("SELECT COUNT(*) FROM api_keys WHERE name = 'no expiry'")
            .await;
        let r = call(
            &base,
            "POST",
            "/v1/keys",
            &admin.secret,
            Some(json!({ "name": "no expiry", "scopes": ["keys:read"], "expires_on": "" })),
        )
        .await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        assert_eq!(r.fields(), ["expires_on"]);
        let after = app
            .scalar_i64("SELECT COUNT(*) FROM api_keys WHERE name = 'no expiry'")
            .await;
        assert_eq!(before, after, "nothing was created");
        app
    })
    .await;
}

#[tokio::test]
async fn control_characters_at_either_end_are_refused_not_trimmed_away() {
    on_every_engine(|app| async move {
        let base = app.serve().await;
        let admin = app.make_key("acme", &["*"], Mode::Live, "").await;
        let path = format!("/v1/keys/{}", admin.id);
        for (field, value) in [
            ("description", "\u{c}hello"),
            ("description", "hello\u{1b}"),
            ("name", "\u{c}ci"),
        ] {
            let r = call(
                &base,
                "PATCH",
                &path,
                &admin.secret,
                Some(json!({ field: value })),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{field} {value:?}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), [field]);
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_verify_endpoint_refuses_an_empty_address() {
    for engine in engines() {
        let app = TestApp::with_settings(&engine, |s| {
            use sha2::Digest as _;
            s.service_token_sha256 = Some(sha2::Sha256::digest(b"svc-token-123").into());
        })
        .await;
        let base = app.serve().await;
        let key = app
            .make_key("acme", &["envelopes:read"], Mode::Live, "192.0.2.0/24")
            .await;
        for ip in ["", " ", " 192.0.2.10"] {
            let r = read(
                http()
                    .post(format!("{base}/v1/verify"))
                    .bearer_auth("svc-token-123")
                    .json(&json!({"key": key.secret, "scope": "envelopes:read", "ip": ip}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{ip:?}: {:?}",
                r.body
            );
            assert_eq!(r.fields(), ["ip"]);
        }
    }
}
