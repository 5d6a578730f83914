//! Being framed inside the SaaS's own pages (issue 25, part 3) through the real router: with
//! `--frame-ancestors`, pages name exactly those origins in CSP `frame-ancestors` and drop
//! `X-Frame-Options`, and the session cookie is `SameSite=None; Secure; Partitioned`; everything
//! that is not a page stays unframeable. Without the flag nothing can frame anything.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{header, StatusCode};
use clap::Parser as _;
use common::*;

const HOST: &str = "https://app.example.com";
const DEV_HOST: &str = "http://localhost:8080";

fn header_of(r: &Resp, name: header::HeaderName) -> String {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn set_cookie(r: &Resp) -> String {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.contains("lk_session="))
        .expect("session cookie")
}

async fn framable(engine: &Engine, secure: bool) -> TestApp {
    TestApp::with_settings(engine, |s| {
        s.frame_ancestors = vec![HOST.to_owned(), DEV_HOST.to_owned()];
        s.insecure_cookies = !secure;
    })
    .await
}

#[tokio::test]
async fn listed_origins_may_frame_the_pages_and_nothing_else_is_framable() {
    for engine in engines() {
        let app = framable(&engine, false).await;
        let owner = app.sign_in("owner@acme.test").await;
        for (path, cookie) in [("/signin", None), ("/keys", Some(owner.as_str()))] {
            let r = app.get(path, cookie).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
            assert!(
                csp.contains(&format!("frame-ancestors {HOST} {DEV_HOST}")),
                "{path}: {csp}"
            );
            assert!(!csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            // The rest of the page policy is unchanged.
            for directive in ["default-src 'self'", "object-src 'none'", "base-uri 'none'"] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            // DENY would win over the list in browsers that read both.
            assert!(
                r.headers.get(header::X_FRAME_OPTIONS).is_none(),
                "{path}: X-Frame-Options sent"
            );
        }
        // Server functions (which answer with secrets) are never framed.
        let r = app.call("session", &[], Some(&owner)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(header_of(&r, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
        assert_eq!(header_of(&r, header::X_FRAME_OPTIONS), "DENY");
        app.close().await;
    }
}

#[tokio::test]
async fn without_the_flag_no_page_can_be_framed() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        for (path, cookie) in [("/signin", None), ("/keys", Some(owner.as_str()))] {
            let r = app.get(path, cookie).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(header_of(&r, header::X_FRAME_OPTIONS), "DENY", "{path}");
        }
        let set = set_cookie(
            &app.call(
                "sign_in",
                &[("email", "owner@acme.test"), ("password", PASSWORD)],
                None,
            )
            .await,
        );
        assert!(set.contains("; SameSite=Lax"), "{set}");
        assert!(!set.contains("Partitioned"), "{set}");
        app
    })
    .await;
}

#[tokio::test]
async fn framed_the_session_cookie_goes_cross_site_in_the_framing_sites_partition() {
    for engine in engines() {
        for secure in [false, true] {
            let app = framable(&engine, secure).await;
            let r = app
                .call(
                    "sign_in",
                    &[("email", "owner@acme.test"), ("password", PASSWORD)],
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let set = set_cookie(&r);
            let name = if secure {
                "__Host-lk_session="
            } else {
                "lk_session="
            };
            assert!(set.starts_with(name), "{set}");
            // Secure even on a plain-HTTP development host: browsers refuse SameSite=None
            // without it (and keep Secure cookies from localhost and 127.0.0.1).
            for attr in [
                "; Path=/",
                "; HttpOnly",
                "; SameSite=None",
                "; Secure",
                "; Partitioned",
            ] {
                assert!(set.contains(attr), "{set}");
            }
            assert!(!set.contains("Lax"), "{set}");
            let cookie = set.split(';').next().unwrap().to_owned();
            let s = app.call("session", &[], Some(&cookie)).await.json();
            assert_eq!(s["role"], "owner");
            // Signing out clears it with the same attributes (a partitioned cookie is only
            // replaced by one that is partitioned too).
            let out = set_cookie(&app.call("sign_out", &[], Some(&cookie)).await);
            assert!(out.contains("Max-Age=0"), "{out}");
            assert!(
                out.contains("; SameSite=None") && out.contains("; Partitioned"),
                "{out}"
            );
            app.close().await;
        }
    }
}

#[test]
fn the_flag_takes_origins_only() {
    let parse = |args: &[&str]| server::config::Cli::try_parse_from(args).map(|c| c.command);
    let Ok(server::config::Command::Serve(serve)) = parse(&[
        "latchkey",
        "serve",
        "--frame-ancestors",
        "https://app.example.com/",
        "--frame-ancestors",
        "http://localhost:8080",
    ]) else {
        panic!("not serve")
    };
    assert_eq!(
        serve.ways_in.frame_ancestors,
        ["https://app.example.com", "http://localhost:8080"]
    );
    // A path or a keyword could widen or break the policy: refused at start.
    for bad in [
        "https://app.example.com/embed",
        "*",
        "'self'",
        "app.example.com",
    ] {
        assert!(
            parse(&["latchkey", "serve", "--frame-ancestors", bad]).is_err(),
            "{bad}"
        );
    }
}
