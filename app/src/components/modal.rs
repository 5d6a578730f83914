//! The one modal dialog.

use leptos::prelude::*;

/// A modal built on the native `<dialog>`: `showModal` makes the rest of the page inert (focus
/// stays inside) and Esc asks `on_close` instead of closing behind the app's back.
#[component]
pub fn Modal(
    open: Signal<bool>,
    on_close: Callback<()>,
    #[prop(into)] label: String,
    #[prop(into)] testid: String,
    children: ChildrenFn,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let Some(d) = node.get() else { return };
        if open.get() {
            if !d.open() {
                let _ = d.show_modal();
            }
        } else if d.open() {
            d.close();
        }
    });
    view! {
        <dialog
            node_ref=node
            aria-label=label
            data-testid=testid
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    on_close.run(());
                }
            }
            // Esc while focus is outside the dialog's content (say, after the focused button
            // was replaced) reaches the dialog only as `cancel`: ask, don't close.
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                on_close.run(());
            }
            // The browser may close it anyway (Chrome lets a page refuse only one Esc per user
            // gesture): while the app still holds it open, open it again and ask.
            on:close=move |_| {
                if open.get_untracked() {
                    if let Some(d) = node.get_untracked() {
                        let _ = d.show_modal();
                    }
                    on_close.run(());
                }
            }
        >
            <div class="dialog-body">{move || open.get().then(|| children())}</div>
        </dialog>
    }
}
