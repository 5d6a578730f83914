//! The browser bundle: a binary refuses a site built apart from it, and `/pkg` answers with the
//! precompressed copy the browser accepts, cached for good when the build is stamped.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use server::site;
use std::path::Path;
use tower::ServiceExt;

/// A site with one bundle `id` holding a wasm file and its build-time compressed copies.
fn site_with(root: &Path, id: &str) {
    let dir = root.join("pkg").join(id);
    std::fs::create_dir_all(&dir).expect("bundle dir");
    std::fs::write(dir.join("latchkey.js"), "export default 1;").expect("js");
    std::fs::write(dir.join("latchkey.wasm"), b"\0asm plain").expect("wasm");
    std::fs::write(dir.join("latchkey.wasm.br"), b"brotli bytes").expect("br");
    std::fs::write(dir.join("latchkey.wasm.gz"), b"gzip bytes").expect("gz");
}

fn temp_site() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("latchkey-site-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&root).expect("site root");
    root
}

#[test]
fn a_binary_refuses_a_site_without_its_bundle() {
    let root = temp_site();
    site_with(&root, "0123456789abcdef");
    let refused = site::check_for(&root, Some("fedcba9876543210")).expect_err("refused");
    let said = refused.to_string();
    assert!(said.contains("fedcba9876543210"), "{said}");
    assert!(said.contains("found 0123456789abcdef"), "{said}");
    // Its own bundle, among others, is fine; so is an unstamped binary (it only warns).
    site_with(&root, "fedcba9876543210");
    site::check_for(&root, Some("fedcba9876543210")).expect("its own bundle");
    site::check_for(&root, None).expect("unstamped");
    // An empty site says so.
    let empty = temp_site();
    let said = site::check_for(&empty, Some("fedcba9876543210"))
        .expect_err("refused")
        .to_string();
    assert!(said.contains("found none"), "{said}");
}

#[test]
fn pages_load_the_bundle_the_binary_was_built_with() {
    let root = temp_site();
    site_with(&root, "0123456789abcdef");
    assert_eq!(
        site::pkg_dir_for(&root, Some("0123456789abcdef")),
        "pkg/0123456789abcdef"
    );
    // Unstamped: the bundle that is there.
    assert_eq!(site::pkg_dir_for(&root, None), "pkg/0123456789abcdef");
    // `cargo leptos watch` writes straight into pkg/: the newest build wins.
    let direct = root.join("pkg").join("latchkey.js");
    std::fs::write(&direct, "export default 2;").expect("js");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&direct)
        .and_then(|f| f.set_modified(later))
        .expect("mtime");
    assert_eq!(site::pkg_dir_for(&root, None), "pkg");
}

async fn fetch(
    router: axum::Router,
    path: &str,
    accept: &str,
) -> (StatusCode, Option<String>, Option<String>, Vec<u8>) {
    let res = router
        .oneshot(
            Request::get(path)
                .header(header::ACCEPT_ENCODING, accept)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    let header_of = |name: header::HeaderName| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (encoding, cache) = (
        header_of(header::CONTENT_ENCODING),
        header_of(header::CACHE_CONTROL),
    );
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, encoding, cache, body.to_vec())
}

#[tokio::test]
async fn assets_come_precompressed_and_immutable() {
    let root = temp_site();
    site_with(&root, "0123456789abcdef");
    let wasm = "/pkg/0123456789abcdef/latchkey.wasm";
    let stamped = || site::assets_for::<()>(&root, Some("0123456789abcdef"));

    let (status, encoding, cache, body) = fetch(stamped(), wasm, "gzip, deflate, br").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoding.as_deref(), Some("br"));
    assert_eq!(body, b"brotli bytes");
    assert_eq!(
        cache.as_deref(),
        Some("public, max-age=31536000, immutable")
    );

    let (_, encoding, _, body) = fetch(stamped(), wasm, "gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(body, b"gzip bytes");

    let (_, encoding, _, body) = fetch(stamped(), wasm, "identity").await;
    assert_eq!(encoding, None);
    assert_eq!(body, b"\0asm plain");

    // An unstamped build reuses its URLs: browsers must ask again.
    let (_, _, cache, _) = fetch(site::assets_for::<()>(&root, None), wasm, "br").await;
    assert_eq!(cache.as_deref(), Some("no-cache"));

    let (status, ..) = fetch(stamped(), "/pkg/0123456789abcdef/missing.js", "br").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
