//! The page's script for server-drawn markup. Dialogs, their forms and their buttons are drawn on
//! the server, opened with invoker commands (`command="show-modal"`), and given behaviour here by
//! data attributes, with one set of listeners on the document. A page then carries this one
//! island's code instead of a typed view per dialog (each of those cost 10 to 40 kB of wasm).
//!
//! - `<form data-enhance action=PATH method="post">` posts its fields to the server function at
//!   PATH and stays on the page. The refusal's messages land in the form's
//!   `[data-error-for=FIELD]` slots (and its `[data-form-error]` slot for the rest). On success
//!   the page loads again (the server left its notice), unless the form's dialog has a
//!   `[data-step=result]`: that step is then shown, filled from the answer (`data-fill=PATH`
//!   takes a dotted path's text, `data-fill-origin` puts the page's origin before it, and
//!   `data-if=PATH` / `data-unless=PATH` show an element only when the path has a value / none).
//!   The submit button says its `data-pending` text meanwhile.
//! - A dialog that has shown its result loads the page when it closes, so the page lists what was
//!   made and the secret leaves memory. If the result has a `[data-step=confirm]`, closing (Esc,
//!   or a `data-ask` button) first asks; `data-ask-back` goes back, `data-confirmed` closes.
//! - `data-copy=ID` copies the text of the element with that id (the button then says its
//!   `data-copied` or `data-copy-failed` text, or the `data-copied-notice` element says so);
//!   `data-download=NAME` offers `data-prefix` + that text as a file.
//! - A result step may be a `<template data-step="result">`: its copy enters the page only on
//!   success, so the result's elements (the secret's box) are not in the page before.
//! - `data-say=TEXT` on a radio puts TEXT in its `data-say-in` element when chosen;
//!   `data-switch=ID` on a select shows the `[data-case=VALUE]` of its choice inside ID and
//!   hides (and clears) the others.
//! - `data-toggle` shows or hides its `aria-controls` element (class `open`, `aria-expanded`).
//! - `data-open=TEMPLATE-ID` copies that `<template>`'s dialog into the page and opens it; it
//!   leaves the page when closed. A form's `data-result=TEMPLATE-ID` shows its result in such a
//!   dialog. Per-row dialogs wait in templates so their ids and labels are
//!   in the document only while open.
//! - `data-live` elements are disabled in the HTML and enabled here: the buttons whose plain
//!   behaviour (a form post without this script) would lose what only the page shows, a secret.
//! - One-time links carry their token in the `#fragment`, which only the browser sees:
//!   `data-from-hash` inputs take it, and a `data-autosubmit` form is posted at once.
//! - A form's `data-then` says what success does instead of the above: `show` shows the result
//!   step of its `[data-steps]` box, `html` puts the answer (HTML the server drew) there,
//!   `replace` goes to the answer (a path) in place of this page, `go` goes to `data-go`.

use leptos::prelude::*;

/// Placed once in the shell, so it hydrates on every page (and before [`super::Hydrated`]).
#[island]
pub fn Enhancer() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        dom::install();
    });
}

#[cfg(feature = "hydrate")]
mod dom {
    use crate::components::browser::{
        copy_text, download, location_hash, navigate_hard, navigate_replace, origin, reload,
    };
    use crate::error::AppError;
    use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
    use gloo_utils::{document, window};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::{spawn_local, JsFuture};
    use web_sys::{
        Element, Event, FormData, Headers, HtmlDialogElement, HtmlElement, HtmlFormElement,
        HtmlTemplateElement, RequestInit, Response, UrlSearchParams,
    };

    pub fn install() {
        let doc = document();
        let active = EventListenerOptions {
            phase: EventListenerPhase::Bubble,
            passive: false,
        };
        // `cancel` and `close` do not bubble: they are caught on the way down.
        let capture = EventListenerOptions {
            phase: EventListenerPhase::Capture,
            passive: false,
        };
        // The listeners live as long as the page.
        EventListener::new_with_options(&doc, "submit", active, on_submit).forget();
        EventListener::new_with_options(&doc, "click", active, on_click).forget();
        EventListener::new(&doc, "change", on_change).forget();
        EventListener::new_with_options(&doc, "cancel", capture, on_cancel).forget();
        EventListener::new_with_options(&doc, "close", capture, on_close).forget();
        let Some(root) = doc.document_element() else {
            return;
        };
        for el in all(&root, "[data-live]") {
            let _ = el.remove_attribute("disabled");
        }
        for el in all(&root, "input[data-from-hash]") {
            let _ = el.set_attribute("value", &location_hash());
        }
        for form in all(&root, "form[data-autosubmit]") {
            if let Ok(f) = form.dyn_into::<HtmlFormElement>() {
                let _ = f.request_submit();
            }
        }
    }

    /// The elements under `root` that match `selector`.
    fn all(root: &Element, selector: &str) -> Vec<Element> {
        let Ok(list) = root.query_selector_all(selector) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.get(i))
            .filter_map(|n| n.dyn_into::<Element>().ok())
            .collect()
    }

    fn one(root: &Element, selector: &str) -> Option<Element> {
        root.query_selector(selector).ok().flatten()
    }

    fn set_hidden(el: &Element, hidden: bool) {
        let _ = el.toggle_attribute_with_force("hidden", hidden);
    }

    fn on_submit(ev: &Event) {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        if form.has_attribute("data-enhance") {
            ev.prevent_default();
            spawn_local(submit(form));
        }
    }

    /// What the server function answered.
    enum Reply {
        /// It sent the browser elsewhere (`leptos_axum::redirect`).
        Redirect(String),
        /// Its output, as JSON.
        Done(String),
    }

    async fn submit(form: HtmlFormElement) {
        clear_errors(&form);
        let button = one(&form, "[type=submit]");
        let label = button.as_ref().and_then(|b| b.text_content());
        if let Some(b) = &button {
            let _ = b.set_attribute("disabled", "");
            if let Some(pending) = b.get_attribute("data-pending") {
                b.set_text_content(Some(&pending));
            }
        }
        let reply = post(&form).await;
        if let Some(b) = &button {
            let _ = b.remove_attribute("disabled");
            b.set_text_content(label.as_deref());
        }
        match reply {
            Ok(Reply::Redirect(to)) => navigate_hard(&to),
            Ok(Reply::Done(json)) => done(&form, &json),
            Err(e) => show_error(&form, &e),
        }
    }

    /// Posts the form's fields as the plain form would, but asks for JSON back.
    async fn post(form: &HtmlFormElement) -> Result<Reply, AppError> {
        let unreachable = |_: JsValue| AppError::Transport(String::new());
        let action = form.get_attribute("action").unwrap_or_default();
        let fields = FormData::new_with_form(form).map_err(unreachable)?;
        let body = UrlSearchParams::new_with_str_sequence_sequence(&fields).map_err(unreachable)?;
        let headers = Headers::new().map_err(unreachable)?;
        headers
            .set("Accept", "application/json")
            .map_err(unreachable)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        init.set_headers(&headers);
        let resp: Response = JsFuture::from(window().fetch_with_str_and_init(&action, &init))
            .await
            .map_err(unreachable)?
            .unchecked_into();
        let header = |name: &str| resp.headers().get(name).ok().flatten();
        if header("serverfnredirect").is_some() {
            return Ok(Reply::Redirect(
                header("location").unwrap_or_else(|| "/".to_owned()),
            ));
        }
        let text = JsFuture::from(resp.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default();
        if resp.ok() {
            Ok(Reply::Done(text))
        } else {
            Err(serde_json::from_str(&text).unwrap_or(AppError::Internal))
        }
    }

    fn clear_errors(form: &Element) {
        for el in all(form, "[data-enhance-error]") {
            el.remove();
        }
    }

    /// Appends a message to `slot`, marked so the next submission clears it.
    fn say(slot: &Element, class: &str, testid: Option<&str>, text: &str) {
        let Ok(p) = document().create_element("p") else {
            return;
        };
        p.set_class_name(class);
        let _ = p.set_attribute("role", "alert");
        let _ = p.set_attribute("data-enhance-error", "");
        if let Some(t) = testid {
            let _ = p.set_attribute("data-testid", t);
        }
        p.set_text_content(Some(text));
        let _ = slot.append_child(&p);
    }

    fn show_error(form: &Element, error: &AppError) {
        for el in all(form, "[data-while-pending]") {
            set_hidden(&el, true);
        }
        let mut rest = Vec::new();
        match error {
            AppError::Validation(fields) => {
                for f in fields {
                    match one(form, &format!("[data-error-for=\"{}\"]", f.field)) {
                        Some(slot) => say(
                            &slot,
                            "field-error",
                            Some(&format!("error-{}", f.field)),
                            &f.message,
                        ),
                        None => rest.push(f.message.clone()),
                    }
                }
            }
            other => rest.push(other.to_string()),
        }
        if !rest.is_empty() {
            if let Some(slot) = one(form, "[data-form-error]") {
                // A page may word every refusal but "too many attempts" its own way.
                let own = slot
                    .get_attribute("data-refused")
                    .filter(|_| !matches!(error, AppError::RateLimited { .. }));
                let testid = slot.get_attribute("data-message-testid");
                let text = own.unwrap_or_else(|| rest.join(" "));
                say(&slot, "notice notice-error", testid.as_deref(), &text);
            }
        }
    }

    fn on_change(ev: &Event) {
        let Some(el) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let say = (
            el.get_attribute("data-say"),
            el.get_attribute("data-say-in"),
        );
        if let (Some(text), Some(id)) = say {
            if let Some(target) = document().get_element_by_id(&id) {
                target.set_text_content(Some(&text));
            }
        }
        if el.has_attribute("data-switch") {
            switch(&el);
        }
    }

    /// Shows the `[data-case]` a `data-switch` select names; the others hide, their boxes cleared.
    fn switch(select: &Element) {
        let value = select
            .dyn_ref::<web_sys::HtmlSelectElement>()
            .map(|s| s.value())
            .unwrap_or_default();
        let within = select
            .get_attribute("data-switch")
            .and_then(|id| document().get_element_by_id(&id));
        for case in within.map(|w| all(&w, "[data-case]")).unwrap_or_default() {
            let shown = case.get_attribute("data-case").as_deref() == Some(value.as_str());
            set_hidden(&case, !shown);
            if !shown {
                for input in all(&case, "input") {
                    if let Ok(i) = input.dyn_into::<web_sys::HtmlInputElement>() {
                        i.set_checked(false);
                    }
                }
            }
        }
    }

    /// The value at a dotted path of a parsed JSON answer (`key.name`).
    fn lookup(value: &JsValue, path: &str) -> JsValue {
        path.split('.').fold(value.clone(), |v, part| {
            if v.is_object() {
                js_sys::Reflect::get(&v, &JsValue::from_str(part)).unwrap_or(JsValue::UNDEFINED)
            } else {
                JsValue::UNDEFINED
            }
        })
    }

    fn done(form: &HtmlFormElement, json: &str) {
        let answer = js_sys::JSON::parse(json).unwrap_or(JsValue::NULL);
        let then = form.get_attribute("data-then").unwrap_or_default();
        let steps = form.closest("[data-steps]").ok().flatten();
        let result = steps.and_then(|s| one(&s, "[data-step=result]"));
        match (then.as_str(), result) {
            ("replace", _) => return navigate_replace(&answer.as_string().unwrap_or_default()),
            ("go", _) => return navigate_hard(&form.get_attribute("data-go").unwrap_or_default()),
            ("html", Some(result)) => {
                result.set_inner_html(&answer.as_string().unwrap_or_default());
                set_hidden(form, true);
                set_hidden(&result, false);
                return;
            }
            ("show", Some(result)) => {
                set_hidden(form, true);
                set_hidden(&result, false);
                return;
            }
            _ => {}
        }
        // `data-result`: the result's dialog waits in that template (one per row or card).
        let dialog = match form.get_attribute("data-result") {
            Some(id) => open_template(&id).map(Element::from),
            None => form.closest("dialog").ok().flatten(),
        };
        let Some((dialog, result)) =
            dialog.and_then(|d| one(&d, "[data-step=result]").map(|r| (d, r)))
        else {
            reload();
            return;
        };
        let Some(result) = instantiate(result) else {
            return;
        };
        let present = |path: Option<String>| {
            let v = lookup(&answer, &path.unwrap_or_default());
            !(v.is_null() || v.is_undefined())
        };
        for el in all(&result, "[data-fill]") {
            let path = el.get_attribute("data-fill").unwrap_or_default();
            let mut text = lookup(&answer, &path).as_string().unwrap_or_default();
            if el.has_attribute("data-fill-origin") {
                text = format!("{}{text}", origin());
            }
            el.set_text_content(Some(&text));
        }
        for el in all(&result, "[data-if]") {
            set_hidden(&el, !present(el.get_attribute("data-if")));
        }
        for el in all(&result, "[data-unless]") {
            set_hidden(&el, present(el.get_attribute("data-unless")));
        }
        set_hidden(form, true);
        set_hidden(&result, false);
        let _ = dialog.set_attribute("data-done", "");
        // The form that had focus is gone: keyboard users land on the result's first button.
        if let Some(b) = one(&result, "button").and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
            let _ = b.focus();
        }
    }

    /// A `<template>` result enters the page (after the template) as a copy of its element.
    fn instantiate(result: Element) -> Option<Element> {
        let Some(template) = result.dyn_ref::<HtmlTemplateElement>() else {
            return Some(result);
        };
        let copy = template
            .content()
            .first_element_child()?
            .clone_node_with_deep(true)
            .ok()?
            .dyn_into::<Element>()
            .ok()?;
        let _ = copy.set_attribute("data-step", "result");
        template.after_with_node_1(&copy).ok()?;
        template.remove();
        set_hidden(&copy, true);
        Some(copy)
    }

    /// Shows (or hides) a done dialog's "Have you saved it?" step in place of its Done row.
    fn ask(dialog: &Element, asking: bool) -> bool {
        let Some(confirm) = one(dialog, "[data-step=confirm]") else {
            return false;
        };
        set_hidden(&confirm, !asking);
        if let Some(row) = one(dialog, "[data-step=finish]") {
            set_hidden(&row, asking);
        }
        true
    }

    fn must_ask(dialog: &Element) -> bool {
        dialog.has_attribute("data-done")
            && !dialog.has_attribute("data-confirmed")
            && one(dialog, "[data-step=confirm]").is_some()
    }

    fn on_cancel(ev: &Event) {
        let Some(dialog) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if dialog.tag_name().eq_ignore_ascii_case("dialog") && must_ask(&dialog) {
            ev.prevent_default();
            ask(&dialog, true);
        }
    }

    fn on_close(ev: &Event) {
        let Some(dialog) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlDialogElement>().ok())
        else {
            return;
        };
        if must_ask(&dialog) {
            // Chrome lets a page refuse only one Esc per user gesture: open it again and ask.
            let _ = dialog.show_modal();
            ask(&dialog, true);
        } else if dialog.has_attribute("data-done") {
            reload();
        } else if dialog.has_attribute("data-from-template") {
            dialog.remove();
        } else {
            for form in all(&dialog, "form") {
                clear_errors(&form);
                if let Ok(f) = form.dyn_into::<HtmlFormElement>() {
                    f.reset();
                }
            }
            for select in all(&dialog, "select[data-switch]") {
                switch(&select);
            }
        }
    }

    fn on_click(ev: &Event) {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| {
                t.closest(
                    "[data-copy],[data-download],[data-ask],[data-ask-back],[data-confirmed],\
                     [data-toggle],[data-open]",
                )
                .ok()
                .flatten()
            })
        else {
            return;
        };
        let attr = |name: &str| el.get_attribute(name);
        let text_of = |id: Option<String>| {
            id.and_then(|id| document().get_element_by_id(&id))
                .and_then(|e| e.text_content())
                .unwrap_or_default()
        };
        let dialog = el.closest("dialog").ok().flatten();
        if let Some(id) = attr("data-copy") {
            let text = text_of(Some(id));
            spawn_local(async move { copied(&el, copy_text(text.clone()).await, &text) });
        } else if let Some(name) = attr("data-download") {
            let prefix = attr("data-prefix").unwrap_or_default();
            download(
                &name,
                &format!("{prefix}{}\n", text_of(attr("data-source"))),
            );
        } else if el.has_attribute("data-ask") {
            if let Some(d) = dialog {
                ask(&d, true);
            }
        } else if el.has_attribute("data-ask-back") {
            if let Some(d) = dialog {
                ask(&d, false);
            }
        } else if el.has_attribute("data-confirmed") {
            if let Some(d) = dialog.and_then(|d| d.dyn_into::<HtmlDialogElement>().ok()) {
                let _ = d.set_attribute("data-confirmed", "");
                d.close();
            }
        } else if el.has_attribute("data-toggle") {
            let target = attr("aria-controls").and_then(|id| document().get_element_by_id(&id));
            if let Some(t) = target {
                let open = t.class_list().toggle("open").unwrap_or(false);
                let _ = el.set_attribute("aria-expanded", if open { "true" } else { "false" });
            }
        } else if let Some(id) = attr("data-open") {
            open_template(&id);
        }
    }

    /// Says how a copy went: on the button itself, or in its `data-copied-notice` element.
    fn copied(button: &Element, ok: bool, text: &str) {
        let attr = |name: &str| button.get_attribute(name);
        if let Some(slot) =
            attr("data-copied-notice").and_then(|id| document().get_element_by_id(&id))
        {
            let what = attr("data-what").unwrap_or_default();
            let said = if ok {
                format!("Copied {what} {text}")
            } else {
                format!("Couldn't copy; the {what} is {text}")
            };
            if let Ok(p) = document().create_element("p") {
                p.set_class_name("notice notice-ok");
                let _ = p.set_attribute("role", "status");
                let _ = p.set_attribute("data-testid", "notice");
                p.set_text_content(Some(&said));
                slot.replace_children_with_node_1(&p);
            }
        } else if let Some(said) = attr(if ok {
            "data-copied"
        } else {
            "data-copy-failed"
        }) {
            button.set_text_content(Some(&said));
        }
    }

    /// Copies the template's dialog in beside the template and opens it.
    fn open_template(id: &str) -> Option<HtmlDialogElement> {
        let template = document()
            .get_element_by_id(id)?
            .dyn_into::<HtmlTemplateElement>()
            .ok()?;
        let dialog = template
            .content()
            .first_element_child()?
            .clone_node_with_deep(true)
            .ok()?
            .dyn_into::<HtmlDialogElement>()
            .ok()?;
        let _ = dialog.set_attribute("data-from-template", "");
        for el in all(&dialog, "[data-live]") {
            let _ = el.remove_attribute("disabled");
        }
        template.parent_element()?.append_child(&dialog).ok()?;
        let _ = dialog.show_modal();
        Some(dialog)
    }
}
