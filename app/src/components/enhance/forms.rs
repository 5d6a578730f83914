//! `data-enhance` forms: posted to their server function with the page kept, then the refusal
//! beside its fields or the answer shown (see the module above).

use super::dialogs::open_template;
use super::dom::{all, copy_of, one, set_hidden};
use crate::components::browser::{navigate_hard, navigate_replace, origin, reload};
use crate::error::AppError;
use gloo_utils::{document, window};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Element, Event, FormData, Headers, HtmlElement, HtmlFormElement, HtmlTemplateElement,
    RequestInit, Response, UrlSearchParams,
};

pub(super) fn on_submit(ev: &Event) {
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

pub(super) fn clear_errors(form: &Element) {
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
    let Some((dialog, result)) = dialog.and_then(|d| one(&d, "[data-step=result]").map(|r| (d, r)))
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
    let copy = copy_of(template)?;
    let _ = copy.set_attribute("data-step", "result");
    template.after_with_node_1(&copy).ok()?;
    template.remove();
    set_hidden(&copy, true);
    Some(copy)
}
