//! Security headers. Pages get a Content-Security-Policy whose only inline scripts are the ones
//! the framework writes with this response's nonce (hydration and resource data); everything
//! else gets a policy that allows nothing. Nothing is sniffed or cached, apart from the built
//! assets under `/pkg`, and nothing is framed unless the operator lists the origins that may
//! frame the pages (`--frame-ancestors`).

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use store::AppState;

/// The policy for a page rendered with `nonce`. `'wasm-unsafe-eval'` lets the page compile its
/// own WebAssembly (from `'self'`), not evaluate strings. `frame_ancestors` (origins checked by
/// the flag's parser) may frame it; empty, nothing may.
pub fn page_policy(nonce: &str, frame_ancestors: &[String]) -> String {
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
}

/// For every answer that is not a page (server functions, assets, errors).
pub const NOTHING_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Run in each page's render context (after leptos_axum has made the response's nonce): the
/// page's policy names that nonce.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let ancestors = use_context::<AppState>()
        .map(|s| s.settings.frame_ancestors.clone())
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&page_policy(&nonce, &ancestors)) {
        res.insert_header(CONTENT_SECURITY_POLICY, v);
    }
}

/// Around every answer of the site.
pub async fn site(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Built assets have content-stable names per build and carry no secrets.
    let cacheable = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let page = h.contains_key(CONTENT_SECURITY_POLICY);
    if !page {
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NOTHING_POLICY),
        );
    }
    // `X-Frame-Options` cannot name a list of origins (and browsers that know CSP
    // `frame-ancestors` ignore it): a page the operator lets others frame goes without it.
    let framable = page && !state.settings.frame_ancestors.is_empty();
    if !framable {
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    common(h, !state.settings.insecure_cookies);
    if !cacheable {
        // Pages show a tenant's keys and server functions answer with them (once, a secret).
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// On every `/v1` answer (set by the envelope, one layer fewer per request): JSON only, never
/// cached (a create or roll carries a secret).
pub fn api(h: &mut HeaderMap, https: bool) {
    common(h, https);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn common(h: &mut HeaderMap, https: bool) {
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if https {
        // Only when served over HTTPS (a Secure deployment): over plain HTTP it would be ignored,
        // and on a shared development host it would pin HTTPS on every port.
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::page_policy;

    #[test]
    fn pages_are_framed_only_by_the_listed_origins() {
        assert!(page_policy("n", &[]).ends_with("frame-ancestors 'none'"));
        let listed = [
            "https://app.example.com".to_owned(),
            "http://localhost:8080".to_owned(),
        ];
        let policy = page_policy("n", &listed);
        assert!(
            policy.ends_with("frame-ancestors https://app.example.com http://localhost:8080"),
            "{policy}"
        );
        assert!(!policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("script-src 'self' 'nonce-n' 'wasm-unsafe-eval'"));
    }
}
