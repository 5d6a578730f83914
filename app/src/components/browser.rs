//! The few browser APIs the app uses, on `gloo` where it has them. They run only from event
//! handlers and effects, which never run during server rendering; on the server they are no-ops.

/// Copies text to the clipboard; resolves to whether it worked.
pub async fn copy_text(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    {
        // gloo has no clipboard API, so this one stays on web_sys.
        let promise = gloo_utils::window()
            .navigator()
            .clipboard()
            .write_text(&text);
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Offers `contents` as a file download named `filename`.
pub fn download(filename: &str, contents: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let blob = gloo_file::Blob::new_with_options(contents, Some("text/plain"));
        // Revoked when dropped, so it must live until the click has started the download.
        let url = gloo_file::ObjectUrl::from(blob);
        if let Some(a) = gloo_utils::document()
            .create_element("a")
            .ok()
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(filename);
            a.click();
        }
        drop(url);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (filename, contents);
    }
}

/// Full page load, for changes that reshape the whole app (session, tenant).
pub fn navigate_hard(to: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = gloo_utils::window().location().assign(to);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}

/// Full page load that replaces this page in the history (Back does not return to it).
pub fn navigate_replace(to: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = gloo_utils::window().location().replace(to);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}

/// The page's `#fragment` without the `#`: where one-time links carry their token, so it never
/// reaches the server's logs or a `Referer`. Empty on the server.
pub fn location_hash() -> String {
    #[cfg(feature = "hydrate")]
    {
        gloo_utils::window()
            .location()
            .hash()
            .map(|h| h.trim_start_matches('#').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// `https://host:port` of the page, for showing a full link built from a path.
pub fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        gloo_utils::window().location().origin().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Loads this page again: after a change, the server draws the new state.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = gloo_utils::window().location().reload();
    }
}
