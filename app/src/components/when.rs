//! Times as people read them: "3 min ago", "in 6 days", with the exact UTC time on hover and on
//! focus, kept current without a reload.

use latchkey_domain::time::{format_ms_seconds, iso_ms, relative};
use leptos::prelude::*;

/// How often relative times are redrawn.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const TICK_MS: u64 = 30_000;

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

/// `at` relative to now, focusable, with the exact UTC time as its title and accessible name.
///
/// An island of its own: the page around it is plain HTML. It counts from `now`, the time the
/// page's data was read (the server's clock), plus how far the browser's clock has moved since
/// it was drawn. Only that progress is used, never the browser's time itself: a computer whose
/// clock is off by minutes still reads "under a minute ago" for what just happened.
// An island wherever the shell is (`islands-shell`), not in the entry pages' bundle.
#[cfg_attr(feature = "islands-shell", island)]
#[cfg_attr(not(feature = "islands-shell"), component)]
pub fn When(
    at: i64,
    /// The time the page's data was read (the server's clock).
    now: i64,
    #[prop(optional, into)] testid: Option<String>,
) -> impl IntoView {
    let exact = format_ms_seconds(at);
    // `None` until the first tick, so the server's HTML and the hydrated island agree.
    let ticked = RwSignal::new(None::<i64>);
    let shown_at = browser_now();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = set_interval_with_handle(
                move || ticked.set(browser_now()),
                std::time::Duration::from_millis(TICK_MS),
            );
        }
    });
    let text = move || {
        let now = match (ticked.get(), shown_at) {
            (Some(t), Some(shown)) => now.saturating_add(t.saturating_sub(shown).max(0)),
            _ => now,
        };
        relative(at, now)
    };
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
