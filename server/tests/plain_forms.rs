//! Plain HTML forms that post straight to server functions (issue 26: what needs no island ships
//! no code): the redirect that answers them, the error that comes back in the URL and who may
//! see it, and the notice that rides to the next page in a cookie. Through the real router, on
//! every engine.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use common::*;

/// A browser's form post: `Accept` names HTML, so server_fn answers with a redirect.
async fn post_form(
    app: &TestApp,
    endpoint: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
    referer: &str,
) -> Resp {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace('@', "%40")))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::REFERER, referer)
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// A page load, as the browser sends it after following a redirect (`site`: `Sec-Fetch-Site`).
async fn page(app: &TestApp, path: &str, cookie: Option<&str>, site: &str) -> Resp {
    let mut req = Request::get(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", site);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn location(r: &Resp) -> String {
    r.headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the cookie `name` a response sets.
fn cookie_pair(r: &Resp, name: &str) -> Option<String> {
    set_cookies(r)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn signing_in_with_the_plain_form_redirects_home_or_back_with_the_error() {
    on_every_engine(|app| async move {
        let back = "http://127.0.0.1:3000/signin";
        let wrong = [
            ("email", "owner@acme.test"),
            ("password", "not the password"),
        ];
        let r = post_form(&app, "sign_in", &wrong, None, back).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let to = location(&r);
        assert!(to.starts_with(back) && to.contains("__err="), "{to}");
        assert!(cookie_pair(&r, "lk_session").is_none());
        // The page it lands on says why, beside the form.
        let landed = page(
            &app,
            &to.replace("http://127.0.0.1:3000", ""),
            None,
            "same-origin",
        )
        .await;
        assert!(landed.body.contains("sign-in-error"), "{}", landed.body);
        assert!(landed.body.contains("match"), "{}", landed.body);

        let right = [("email", "owner@acme.test"), ("password", PASSWORD)];
        let r = post_form(&app, "sign_in", &right, None, back).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        assert_eq!(location(&r), "/");
        assert!(
            cookie_pair(&r, "lk_session").is_some(),
            "{:?}",
            set_cookies(&r)
        );
        app
    })
    .await;
}

#[tokio::test]
async fn an_error_in_a_link_from_elsewhere_is_not_shown() {
    on_every_engine(|app| async move {
        // What server_fn would put in the URL, but words of an attacker's choosing.
        let err = serde_json::to_vec(&latchkey_domain::error::AppError::Conflict(
            "Your account is locked: call +1 555 0100".to_owned(),
        ))
        .unwrap();
        let err = base64::engine::general_purpose::URL_SAFE.encode(err);
        let path = format!("/signin?__path=/api/sign_in&__err={err}");
        for site in ["cross-site", "none", "same-site"] {
            let r = page(&app, &path, None, site).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(!r.body.contains("call +1 555"), "shown for {site}");
        }
        // Our own redirect (same origin) is what shows it.
        let r = page(&app, &path, None, "same-origin").await;
        assert!(r.body.contains("call +1 555"), "{}", r.body);
        app
    })
    .await;
}

#[tokio::test]
async fn a_notice_rides_to_the_next_page_once_in_an_http_only_cookie() {
    on_every_engine(|app| async move {
        let owner = app.sign_in("owner@acme.test").await;
        let tenant = app.tenant_id("acme").await.to_string();
        let back = "http://127.0.0.1:3000/webhooks";
        let form = [
            ("tenant", tenant.as_str()),
            ("leak_policy", "disable"),
            ("unused_days", "45"),
        ];
        let r = post_form(&app, "webhooks/key_safety", &form, Some(&owner), back).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        // server_fn strips a previous error from the page's URL and may leave a bare `?`.
        assert_eq!(location(&r).trim_end_matches('?'), back);
        let notice = set_cookies(&r)
            .into_iter()
            .find(|c| c.starts_with("lk_notice="))
            .expect("a notice cookie");
        assert!(notice.contains("HttpOnly"), "{notice}");
        let pair = cookie_pair(&r, "lk_notice").unwrap();

        let cookies = format!("{owner}; {pair}");
        let shown = page(&app, "/webhooks", Some(&cookies), "same-origin").await;
        assert!(shown.body.contains("Key safety saved."), "{}", shown.body);
        // Said once: the page clears it.
        assert_eq!(
            cookie_pair(&shown, "lk_notice").as_deref(),
            Some("lk_notice="),
            "{:?}",
            set_cookies(&shown)
        );

        // A refused value comes back as the field's error, not a notice.
        let bad = [
            ("tenant", tenant.as_str()),
            ("leak_policy", "disable"),
            ("unused_days", "many"),
        ];
        let r = post_form(&app, "webhooks/key_safety", &bad, Some(&owner), back).await;
        assert_eq!(r.status, StatusCode::FOUND);
        assert!(location(&r).contains("__err="), "{}", location(&r));
        assert!(cookie_pair(&r, "lk_notice").is_none());
        app
    })
    .await;
}
