//! The few browser APIs the app uses. They run only from event handlers and effects, which
//! never run during server rendering; on the server they are no-ops.

/// Copies text to the clipboard; resolves to whether it worked.
pub async fn copy_text(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return false;
        };
        let promise = window.navigator().clipboard().write_text(&text);
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
        let parts = js_sys_array(contents);
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/plain");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(a) = doc
            .and_then(|d| d.create_element("a").ok())
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(filename);
            a.click();
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (filename, contents);
    }
}

#[cfg(feature = "hydrate")]
fn js_sys_array(s: &str) -> wasm_bindgen::JsValue {
    let arr = js_sys::Array::new();
    arr.push(&wasm_bindgen::JsValue::from_str(s));
    arr.into()
}

/// Full page load, for changes that reshape the whole app (session, tenant).
pub fn navigate_hard(to: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign(to);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}
