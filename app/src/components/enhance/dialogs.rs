//! Dialogs whose result is a secret ask before closing; a closed dialog resets its form, or loads
//! the page once something was made; per-row dialogs come from templates.

use super::dom::{all, copy_of, one, set_hidden, switch};
use super::forms::clear_errors;
use crate::components::browser::reload;
use gloo_utils::document;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlDialogElement, HtmlFormElement, HtmlTemplateElement};

/// Shows (or hides) a done dialog's "Have you saved it?" step in place of its Done row.
pub(super) fn ask(dialog: &Element, asking: bool) -> bool {
    let Some(confirm) = one(dialog, "[data-step=confirm]") else {
        return false;
    };
    set_hidden(&confirm, !asking);
    if let Some(row) = one(dialog, "[data-step=finish]") {
        set_hidden(&row, asking);
    }
    true
}

pub(super) fn must_ask(dialog: &Element) -> bool {
    dialog.has_attribute("data-done")
        && !dialog.has_attribute("data-confirmed")
        && one(dialog, "[data-step=confirm]").is_some()
}

pub(super) fn on_cancel(ev: &Event) {
    let Some(dialog) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    if dialog.tag_name().eq_ignore_ascii_case("dialog") && must_ask(&dialog) {
        ev.prevent_default();
        ask(&dialog, true);
    }
}

pub(super) fn on_close(ev: &Event) {
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
        // It stays open until the page it loads replaces this one: nothing can be done on a
        // page about to go.
        let _ = dialog.show_modal();
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

/// Copies the template's dialog in beside the template and opens it.
pub(super) fn open_template(id: &str) -> Option<HtmlDialogElement> {
    let template = document()
        .get_element_by_id(id)?
        .dyn_into::<HtmlTemplateElement>()
        .ok()?;
    let dialog = copy_of(&template)?.dyn_into::<HtmlDialogElement>().ok()?;
    let _ = dialog.set_attribute("data-from-template", "");
    for el in all(&dialog, "[data-live]") {
        let _ = el.remove_attribute("disabled");
    }
    template.parent_element()?.append_child(&dialog).ok()?;
    let _ = dialog.show_modal();
    Some(dialog)
}
