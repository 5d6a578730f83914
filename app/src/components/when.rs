//! Times as people read them: "3 min ago", "in 6 days", with the exact UTC time on hover and on
//! focus, kept current without a reload by one page-wide clock.

use latchkey_domain::time::{format_ms_seconds, iso_ms, relative};
use leptos::prelude::*;

/// How often relative times are redrawn.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const TICK_MS: u64 = 30_000;

/// The browser's clock, read every [`TICK_MS`]; `None` until the first tick, so the server's
/// HTML and the hydrated page both render from the time the page's data was read. Only its
/// progress is used, never its value: a computer whose clock is off by minutes still reads
/// "under a minute ago" for what just happened.
#[derive(Clone, Copy)]
pub struct Clock(RwSignal<Option<i64>>);

/// The browser's clock now; `None` on the server.
fn browser_now() -> Option<i64> {
    #[cfg(feature = "hydrate")]
    {
        Some(js_sys::Date::now() as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

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
                    move || now.set(browser_now()),
                    std::time::Duration::from_millis(TICK_MS),
                );
            }
        });
    }

    /// The time relative times are measured from: the time the page's data was read
    /// (`page_now`, the server's clock) plus how far the browser's clock has moved since
    /// `shown_at` (when the time was first drawn; `None` on the server).
    pub fn now(page_now: i64, shown_at: Option<i64>) -> i64 {
        let ticked = use_context::<Clock>().and_then(|c| c.0.get());
        match (ticked, shown_at) {
            (Some(t), Some(shown)) => page_now.saturating_add(t.saturating_sub(shown).max(0)),
            _ => page_now,
        }
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
    let shown_at = browser_now();
    let text = move || relative(at, Clock::now(now, shown_at));
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
