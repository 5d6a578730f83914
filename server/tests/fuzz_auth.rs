//! Arbitrary bytes as the `Authorization` header, through the real router: never a panic,
//! always `401 invalid_api_key`, whatever the shape (junk, near-miss keys, Basic, Bearer).
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use common::*;
use latchkey_domain::keys::Mode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn arbitrary_authorization_headers_are_refused_without_panicking() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::new(&Engine::Sqlite));
    let valid = rt
        .block_on(app.make_key("acme", &["*"], Mode::Live, ""))
        .secret;

    let near_miss = (0..valid.len(), any::<u8>()).prop_filter_map("differs", {
        let valid = valid.clone();
        move |(i, c)| {
            let mut b = valid.clone().into_bytes();
            if b[i] == c {
                return None;
            }
            b[i] = c;
            Some(b)
        }
    });
    let strategy = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..160),
        "[ -~]{0,80}".prop_map(|s| format!("Bearer {s}").into_bytes()),
        "[A-Za-z0-9_]{0,60}".prop_map(|s| format!("Bearer lk_live_{s}").into_bytes()),
        near_miss
            .clone()
            .prop_map(|k| [b"Bearer ".to_vec(), k].concat()),
        near_miss
            .prop_map(|k| format!("Basic {}", encode(&[k, b":".to_vec()].concat())).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..80)
            .prop_map(|b| format!("Basic {}", encode(&b)).into_bytes()),
    ];

    let mut runner = TestRunner::new(Config {
        cases: 1500,
        failure_persistence: None,
        ..Config::default()
    });
    let sent = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |bytes| {
            // Bytes no HTTP stack would carry (CR, LF, NUL) never reach us at all.
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            sent.set(sent.get() + 1);
            let req = Request::get("/v1/whoami")
                .header(header::AUTHORIZATION, value)
                .body(Body::empty())
                .unwrap();
            let r = rt.block_on(app.send(req));
            prop_assert_eq!(r.status.as_u16(), 401, "{:?} -> {}", bytes, r.body);
            let body = r.json();
            prop_assert_eq!(
                body["error"]["code"].as_str(),
                Some("invalid_api_key"),
                "{:?}",
                bytes
            );
            Ok(())
        })
        .unwrap();
    assert!(
        sent.get() > 500,
        "only {} headers were sendable",
        sent.get()
    );
    // The valid key still works after all that (the flood did not poison the cache).
    let req = Request::get("/v1/whoami")
        .header(header::AUTHORIZATION, format!("Bearer {valid}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(rt.block_on(app.send(req)).status.as_u16(), 200);
    rt.block_on(app.close());
}
