//! A filter form brought to life: one island for every list's filters (and the organisation
//! switcher), so adding a filter adds no code to the wasm.

use leptos::prelude::*;

/// Wraps a server-drawn `<form method="get">`. Once hydrated, a changed field marked
/// `data-apply="change"` applies at once (the form is submitted), and a submission leaves empty fields out of the URL
/// (`/audit?action=…`, not `/audit?key=&actor=&action=…`). Before it wakes, or without it, the
/// form works as a plain form.
// An island wherever the shell is (`islands-shell`), not in the entry pages' bundle.
#[cfg_attr(feature = "islands-shell", island)]
#[cfg_attr(not(feature = "islands-shell"), component)]
pub fn FilterForm(children: Children) -> impl IntoView {
    view! {
        <div
            class="filter-form"
            on:change=move |ev| {
                #[cfg(feature = "hydrate")]
                apply(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:submit=move |ev| {
                #[cfg(feature = "hydrate")]
                navigate_clean(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
        >
            {children()}
        </div>
    }
}

/// The form a control belongs to.
#[cfg(feature = "hydrate")]
fn form_of(ev: &leptos::ev::Event) -> Option<web_sys::HtmlFormElement> {
    use wasm_bindgen::JsCast;
    let el: web_sys::Element = ev.target()?.dyn_into().ok()?;
    el.closest("form").ok()??.dyn_into().ok()
}

#[cfg(feature = "hydrate")]
fn apply(ev: &leptos::ev::Event) {
    use wasm_bindgen::JsCast;
    let marked = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.get_attribute("data-apply"))
        .is_some_and(|v| v == "change");
    if !marked {
        return;
    }
    if let Some(form) = form_of(ev) {
        // Through the submit event, so `navigate_clean` builds the URL.
        let _ = form.request_submit();
    }
}

/// Loads the form's action with only the fields that hold something.
#[cfg(feature = "hydrate")]
fn navigate_clean(ev: &leptos::ev::Event) {
    use wasm_bindgen::JsCast;
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    // A post (the organisation switcher) goes as the browser sends it.
    if !form.method().eq_ignore_ascii_case("get") {
        return;
    }
    let Ok(data) = web_sys::FormData::new_with_form(&form) else {
        return;
    };
    ev.prevent_default();
    let mut pairs = Vec::new();
    for entry in data.entries() {
        let Ok(entry) = entry else { continue };
        let entry: js_sys::Array = entry.unchecked_into();
        let (name, value) = (entry.get(0).as_string(), entry.get(1).as_string());
        if let (Some(name), Some(value)) = (name, value) {
            if !value.is_empty() {
                pairs.push(format!(
                    "{}={}",
                    js_sys::encode_uri_component(&name),
                    js_sys::encode_uri_component(&value)
                ));
            }
        }
    }
    let action = form.get_attribute("action").unwrap_or_default();
    let url = if pairs.is_empty() {
        action
    } else {
        format!("{action}?{}", pairs.join("&"))
    };
    super::browser::navigate_hard(&url);
}
