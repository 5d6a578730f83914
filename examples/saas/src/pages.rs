//! The example's pages: sign in, a home page with the "API keys" link, and that link's handler,
//! which mints a portal link for the signed-in user and redirects the browser to it.

use crate::sessions::COOKIE;
use crate::{Shared, DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD, DEMO_USER_ID, TENANT_ID, TENANT_NAME};
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;

type S = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signout", post(sign_out))
        .route("/api-keys", get(api_keys))
        .with_state(shared)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · Acme SaaS</title></head><body>\
         <header><strong>Acme SaaS</strong></header><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The signed-in user's email.
fn signed_in(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    session_id(headers).and_then(|id| shared.sessions.user(&id))
}

async fn home(State(shared): S, headers: HeaderMap) -> Response {
    let Some(email) = signed_in(&shared, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    page(
        "Home",
        &format!(
            "<p>Signed in as {} ({}), owner of {TENANT_NAME}.</p>\
             <p><a href=\"/api-keys\">API keys</a></p>\
             <form method=\"post\" action=\"/signout\"><button type=\"submit\">Sign out</button></form>",
            escape(DEMO_NAME),
            escape(&email)
        ),
    )
    .into_response()
}

fn sign_in_form(notice: &str) -> String {
    format!(
        "{notice}<form method=\"post\" action=\"/signin\">\
         <p><label for=\"email\">Email</label><br>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">Password</label><br>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <p><button type=\"submit\">Sign in</button></p></form>\
         <p>Demo user: {DEMO_EMAIL}, password {DEMO_PASSWORD}.</p>"
    )
}

async fn sign_in_page() -> Html<String> {
    page("Sign in", &sign_in_form(""))
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn sign_in(State(shared): S, Form(c): Form<Credentials>) -> Response {
    if c.email.trim() != DEMO_EMAIL || c.password != DEMO_PASSWORD {
        let notice = "<p role=\"alert\">Wrong email or password.</p>";
        return (
            StatusCode::UNAUTHORIZED,
            page("Sign in", &sign_in_form(notice)),
        )
            .into_response();
    }
    // The SaaS owns its tenants and users; Latchkey learns about them from the backend.
    if let Err(e) = shared
        .latchkey
        .provision(TENANT_ID, TENANT_NAME, DEMO_USER_ID, DEMO_EMAIL, DEMO_NAME)
        .await
    {
        return latchkey_failed(&e.0);
    }
    let id = shared.sessions.open(DEMO_EMAIL);
    let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

async fn sign_out(State(shared): S, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        shared.sessions.close(&id);
    }
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/signin")).into_response()
}

/// "API keys": a fresh one-time link for this user, straight to Latchkey (303). Also where
/// Latchkey sends the browser when a portal session has ended (`--portal-refresh-url`).
async fn api_keys(State(shared): S, headers: HeaderMap) -> Response {
    if signed_in(&shared, &headers).is_none() {
        return Redirect::to("/signin").into_response();
    }
    let back = format!("{}/", shared.origin);
    match shared
        .latchkey
        .portal_link(TENANT_ID, DEMO_USER_ID, &back)
        .await
    {
        Ok(link) => Redirect::to(&link.url).into_response(),
        Err(e) => latchkey_failed(&e.0),
    }
}

fn latchkey_failed(why: &str) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        page(
            "Latchkey is unavailable",
            &format!("<p>{}</p><p><a href=\"/\">Home</a></p>", escape(why)),
        ),
    )
        .into_response()
}
