//! The browser entry point: the islands of the server-rendered page come to life (the rest of the
//! page is plain HTML and ships no code).

// Links the app crate, whose islands are the wasm exports `hydrate_islands` looks up by name;
// nothing here names them, and an unnamed dependency is not linked.
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
