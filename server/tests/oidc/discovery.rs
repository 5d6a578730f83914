//! How often Latchkey asks the provider for its discovery document: a refused code (a replay,
//! an attacker's junk) is no reason to, and a provider that is down is asked at most once per
//! 30 seconds however many sign-ins are attempted.

use super::{rig_with, session_set, to_callback};
use crate::common::*;
use crate::walk::Browser;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn refused_codes_do_not_make_latchkey_discover_the_provider_again() {
    let rig = rig_with(&Engine::Sqlite, true, |_| {}).await;
    let before = rig.provider.discoveries().await;
    let mut browser = Browser::new();
    let back = to_callback(&rig, &mut browser, "owner@acme.test").await;
    let flow = browser
        .cookie(&rig.base, store::auth::oidc::FLOW_COOKIE)
        .unwrap();
    let done = browser.get(&back).await;
    assert!(session_set(&done).is_some(), "{done:?}");
    assert_eq!(rig.provider.discoveries().await, before + 1);
    // The used code, again and again: each is refused by the provider at the code exchange.
    for _ in 0..4 {
        browser.set_cookie(&rig.base, store::auth::oidc::FLOW_COOKIE, &flow);
        let replay = browser.get(&back).await;
        assert_eq!(
            replay.location.as_deref(),
            Some(&*format!("{}/signin?sso=failed", rig.base))
        );
    }
    let again = browser.get(&format!("{}/auth/oidc/start", rig.base)).await;
    assert!(again.location.unwrap().starts_with(&rig.provider.issuer));
    assert_eq!(
        rig.provider.discoveries().await,
        before + 1,
        "the cached discovery is still used"
    );
    rig.app.close().await;
}

#[tokio::test]
async fn a_provider_that_is_down_is_asked_at_most_once_in_thirty_seconds() {
    // Where the issuer points: answers every request 503, counting them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\
                          connection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    let app = TestApp::with_settings(&Engine::Sqlite, |s| {
        s.oidc = Some(store::auth::oidc::OidcSettings {
            issuer: issuer.clone(),
            client_id: "c".into(),
            client_secret: "s".into(),
            button_label: "SSO".into(),
            tenant_claim: None,
            role_claim: None,
            allow_private: true,
        });
    })
    .await;
    // One after another, then a burst at once.
    for _ in 0..4 {
        let r = app.get("/auth/oidc/start", None).await;
        assert_eq!(r.headers.get("location").unwrap(), "/signin?sso=failed");
    }
    let burst = (0..8).map(|_| app.get("/auth/oidc/start", None));
    for r in futures_util::future::join_all(burst).await {
        assert_eq!(r.headers.get("location").unwrap(), "/signin?sso=failed");
    }
    assert_eq!(seen.load(Ordering::SeqCst), 1, "one discovery attempt");
    app.close().await;
}
