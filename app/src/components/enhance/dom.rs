//! The listeners, the small DOM helpers the others share, and the clicks and changes that need
//! no server: copy, download, menus, the roll dialog's sentence, the resource type's boxes.

use super::dialogs::{ask, must_ask, on_cancel, on_close, open_template};
use super::forms::on_submit;
use crate::components::browser::{copy_text, download, location_hash, reload};
use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use gloo_utils::document;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, HtmlFormElement, HtmlTemplateElement};

pub(super) fn install() {
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
pub(super) fn all(root: &Element, selector: &str) -> Vec<Element> {
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

pub(super) fn one(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

/// A copy of a `<template>`'s first element, not yet in the page.
pub(super) fn copy_of(template: &HtmlTemplateElement) -> Option<Element> {
    template
        .content()
        .first_element_child()?
        .clone_node_with_deep(true)
        .ok()?
        .dyn_into::<Element>()
        .ok()
}

pub(super) fn set_hidden(el: &Element, hidden: bool) {
    let _ = el.toggle_attribute_with_force("hidden", hidden);
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
pub(super) fn switch(select: &Element) {
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

fn on_click(ev: &Event) {
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|t| {
            t.closest(
                "[data-copy],[data-download],[data-ask],[data-ask-back],[data-confirmed],\
                 [data-toggle],[data-open],button[command=close]",
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
        if let Some(d) = dialog {
            let _ = d.set_attribute("data-confirmed", "");
            reload();
        }
    } else if el.get_attribute("command").as_deref() == Some("close") {
        // A dialog that has shown what it made closes by loading the page (it stays open
        // until the new page replaces this one), after asking where its secret can't come back.
        if let Some(d) = dialog.filter(|d| d.has_attribute("data-done")) {
            ev.prevent_default();
            if must_ask(&d) {
                ask(&d, true);
            } else {
                reload();
            }
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
    if let Some(slot) = attr("data-copied-notice").and_then(|id| document().get_element_by_id(&id))
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
