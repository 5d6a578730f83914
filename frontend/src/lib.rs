//! The browser entry point: the islands of the server-rendered page come to life (the rest of the
//! page is plain HTML and ships no code).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
