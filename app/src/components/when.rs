//! Times as people read them: "3 min ago", "in 6 days", with the exact UTC time on hover and on
//! focus, kept current without a reload by one page-wide clock.

use latchkey_domain::time::{format_ms_seconds, iso_ms, relative};
use leptos::prelude::*;

/// How often relative times are redrawn.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const TICK_MS: u64 = 30_000;

/// The browser's clock, read every [`TICK_MS`]; `None` until the first tick, so the server's
/// HTML and the hydrated page both render from the time the page's data was read.
#[derive(Clone, Copy)]
pub struct Clock(RwSignal<Option<i64>>);

impl Clock {
    /// Starts the page-wide clock (once, in the app shell).
    pub fn provide() {
        let now = RwSignal::new(None::<i64>);
        provide_context(Clock(now));
        // Effects run only in the browser.
        Effect::new(move |_| {
            #[cfg(feature = "hydrate")]
            {
                let _ = set_interval_with_handle(
                    move || now.set(Some(js_sys::Date::now() as i64)),
                    std::time::Duration::from_millis(TICK_MS),
                );
            }
        });
    }

    /// The time relative times are measured from: the browser's once it has ticked, else the
    /// time the page's data was read (`page_now`).
    pub fn now(page_now: i64) -> i64 {
        use_context::<Clock>()
            .and_then(|c| c.0.get())
            .unwrap_or(page_now)
    }
}

/// `at` relative to now, focusable, with the exact UTC time as its title and accessible name.
#[component]
pub fn When(
    at: i64,
    /// The time the page's data was read (the server's clock).
    now: i64,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let exact = format_ms_seconds(at);
    let text = move || relative(at, Clock::now(now));
    let label = {
        let exact = exact.clone();
        move || format!("{} ({exact})", text())
    };
    view! {
        <time
            class="when"
            tabindex="0"
            datetime=iso_ms(at)
            title=exact.clone()
            data-exact=exact
            aria-label=label
            data-testid=testid
        >
            {text}
        </time>
    }
}
