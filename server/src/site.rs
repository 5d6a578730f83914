//! The browser bundle: which one this binary serves, and serving it (precompressed, cached for
//! good). `scripts/site.sh` writes it to `<site root>/pkg/<build id>/` and compiles the server
//! with that id, so the two can be matched at start-up.

use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The id of the bundle this binary was built with; `None` for a binary not built by
/// `scripts/site.sh` (plain `cargo build`, the tests).
pub const BUILD_ID: Option<&str> = option_env!("LATCHKEY_BUILD_ID");

/// The bundle's directory under the site root (`pkg/<id>`), which is also its URL path.
///
/// A stamped binary names its own bundle, whether or not it exists ([`check`] says so first). An
/// unstamped one takes the newest bundle there, or `pkg` when there is none.
pub fn pkg_dir(site_root: &Path) -> String {
    pkg_dir_for(site_root, BUILD_ID)
}

/// [`pkg_dir`] for a given build id.
pub fn pkg_dir_for(site_root: &Path, build_id: Option<&str>) -> String {
    match build_id {
        Some(id) => format!("pkg/{id}"),
        None => match bundles(site_root).into_iter().next() {
            Some(id) if !id.is_empty() => format!("pkg/{id}"),
            _ => "pkg".to_owned(),
        },
    }
}

/// The bundle ids present in a site, newest first. A bundle written straight into `pkg/` (by
/// `cargo leptos watch`, which stamps nothing) counts as the id "".
fn bundles(site_root: &Path) -> Vec<String> {
    let pkg = site_root.join("pkg");
    let Ok(entries) = std::fs::read_dir(&pkg) else {
        return Vec::new();
    };
    let modified = |dir: &Path| -> Option<std::time::SystemTime> {
        std::fs::metadata(dir.join("latchkey.js"))
            .and_then(|m| m.modified())
            .ok()
    };
    let mut found: Vec<(std::time::SystemTime, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((modified(&e.path())?, e.file_name().into_string().ok()?)))
        .collect();
    found.extend(modified(&pkg).map(|m| (m, String::new())));
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, id)| id).collect()
}

/// Refuses to serve a site this binary was not built with: its pages would render, but the
/// browser would load a bundle that does not match them and no button would ever work.
pub fn check(site_root: &Path) -> anyhow::Result<()> {
    check_for(site_root, BUILD_ID)
}

/// [`check`] for a given build id.
pub fn check_for(site_root: &Path, build_id: Option<&str>) -> anyhow::Result<()> {
    let found = bundles(site_root);
    match build_id {
        Some(id) if found.iter().any(|f| f == id) => Ok(()),
        Some(id) => anyhow::bail!(
            "the site at {} was not built with this binary: it needs bundle {id} under pkg/ and \
             found {}. Build both together with `make build-debug` or `make build-release`.",
            site_root.display(),
            if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            }
        ),
        None => {
            tracing::warn!(
                site_root = %site_root.display(),
                found = %found.join(", "),
                "this binary was not built by scripts/site.sh: nothing checks that the site's \
                 bundle matches its pages (build with `make build-debug` or `make build-release`)"
            );
            Ok(())
        }
    }
}

/// `/pkg`: the bundle's files, brotli or gzip as the browser accepts (compressed at build time),
/// cacheable for a year: a new build has a new id, hence new URLs.
pub fn assets<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    assets_for(site_root, BUILD_ID)
}

/// [`assets`] for a given build id.
pub fn assets_for<S: Clone + Send + Sync + 'static>(
    site_root: &Path,
    build_id: Option<&str>,
) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let immutable = match build_id {
        Some(_) => HeaderValue::from_static("public, max-age=31536000, immutable"),
        // Unstamped builds reuse the same URLs: browsers must ask again.
        None => HeaderValue::from_static("no-cache"),
    };
    Router::new()
        .nest_service("/pkg", files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            immutable,
        ))
}
