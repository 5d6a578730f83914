//! Helpers for the portal-link tests: an app with the portal settings, a tenant and member
//! through the operator API, minting, and redeeming as the `/portal` page does.

use super::operator::admin;
use super::{Engine, HttpResp, Resp, TestApp};
use axum::http::header;
use serde_json::{json, Value};

pub const RETURN_ORIGIN: &str = "https://app.example.com";
pub const REFRESH_URL: &str = "https://app.example.com/latchkey";

pub async fn portal_app(engine: &Engine, per_ip: u32) -> TestApp {
    TestApp::with_settings(engine, |s| {
        s.portal.return_origins = vec![RETURN_ORIGIN.to_owned()];
        s.portal.refresh_url = Some(REFRESH_URL.to_owned());
        s.portal.product_name = "Acme SaaS".to_owned();
        s.sign_in_per_ip_per_minute = per_ip;
    })
    .await
}

/// The SaaS's tenant `ext` with member `user` (`role`), through the operator API.
pub async fn provision(base: &str, op: &str, ext: &str, user: &str, role: &str) {
    let t = admin(
        base,
        op,
        "PUT",
        &format!("/v1/admin/tenants/{ext}"),
        Some(json!({"name": format!("Tenant {ext}"), "plan": "professional"})),
        None,
    )
    .await;
    assert!(t.status == 200 || t.status == 201, "tenant: {}", t.body);
    let m = admin(
        base,
        op,
        "PUT",
        &format!("/v1/admin/tenants/{ext}/members/{user}"),
        Some(json!({"email": format!("{user}@saas.test"), "name": user, "role": role})),
        None,
    )
    .await;
    assert!(m.status == 200 || m.status == 201, "member: {}", m.body);
}

pub async fn mint(base: &str, op: &str, body: Value) -> HttpResp {
    admin(base, op, "POST", "/v1/admin/portal-links", Some(body), None).await
}

/// The token in a minted link's fragment.
pub fn token_of(minted: &HttpResp) -> String {
    let url = minted.body["url"].as_str().unwrap().to_owned();
    let (page, token) = url.split_once('#').unwrap();
    assert!(page.ends_with("/portal"), "{url}");
    assert!(token.starts_with("lkp_"), "{url}");
    token.to_owned()
}

/// Redeems as the portal page does; the answer and the session cookie it set, if any.
pub async fn redeem(app: &TestApp, token: &str) -> (Resp, Option<String>) {
    let r = app
        .call_json("portal/redeem", json!({ "token": token }), None)
        .await;
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lk_session=p_"))
        .map(|c| c.split(';').next().unwrap().to_owned());
    (r, cookie)
}
