//! A key's usage at a glance: requests per hour (last 24 hours) or per day (last 30 days),
//! stacked as succeeded / refused / rate limited, drawn as plain SVG (no charting library in
//! the wasm), with the same numbers as a table for screen readers and for copying. Drawn on the
//! server: the range is a link (`?range=days`), so the chart ships no code.

use crate::api_keys::api::KeyUsage;
use latchkey_domain::time::{format_date, format_ms};
use latchkey_domain::usage::UsageBucket;
use leptos::prelude::*;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
/// Room for the y-axis numbers on the left and the time labels below.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Hours,
    Days,
}

impl Range {
    /// The range a `?range=` query names; hours unless it says days.
    pub fn parse(query: Option<&str>) -> Self {
        if query == Some("days") {
            Range::Days
        } else {
            Range::Hours
        }
    }

    fn href(self) -> &'static str {
        match self {
            Range::Hours => "?range=hours",
            Range::Days => "?range=days",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Range::Hours => "Last 24 hours",
            Range::Days => "Last 30 days",
        }
    }

    /// A bucket's time as its axis and table show it.
    fn when(self, start: i64) -> String {
        match self {
            Range::Hours => format_ms(start),
            Range::Days => format_date(start),
        }
    }

    /// The short axis label, or `None` for buckets between labels.
    fn tick(self, i: usize, start: i64) -> Option<String> {
        match self {
            Range::Hours => i
                .is_multiple_of(6)
                .then(|| format_ms(start)[11..16].to_owned()),
            Range::Days => i
                .is_multiple_of(7)
                .then(|| format_date(start)[5..].to_owned()),
        }
    }
}

/// " (401: 1, 403: 2)": the refusals by HTTP status, or nothing.
fn by_code(b: &UsageBucket) -> String {
    if b.refused.is_empty() {
        return String::new();
    }
    let codes: Vec<String> = b.refused.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    format!(" ({})", codes.join(", "))
}

/// "3 (401: 1, 403: 2)".
fn refused_words(b: &UsageBucket) -> String {
    format!("{}{}", b.refused_total(), by_code(b))
}

fn totals(buckets: &[UsageBucket]) -> UsageBucket {
    let mut t = UsageBucket::default();
    for b in buckets {
        t.succeeded += b.succeeded;
        t.rate_limited += b.rate_limited;
        for &(status, n) in &b.refused {
            match t.refused.iter_mut().find(|(s, _)| *s == status) {
                Some(r) => r.1 += n,
                None => t.refused.push((status, n)),
            }
        }
    }
    t.refused.sort_unstable();
    t
}

/// The chart for `range`, with links to the other range (each a page load).
#[component]
pub fn UsageChart(usage: KeyUsage, range: Range) -> impl IntoView {
    let buckets = match range {
        Range::Hours => usage.hourly,
        Range::Days => usage.daily,
    };
    let t = totals(&buckets);
    let summary = format!(
        "{}: {} requests, {} succeeded, {} refused{}, {} rate limited",
        range.label(),
        t.total(),
        t.succeeded,
        t.refused_total(),
        by_code(&t),
        t.rate_limited
    );
    let choice = move |r: Range| {
        view! {
            <a
                class="btn btn-small"
                href=r.href()
                aria-current=(range == r).then_some("true")
            >
                {r.label()}
            </a>
        }
    };
    view! {
        <section class="card usage" data-testid="usage-chart" aria-labelledby="usage-title">
            <div class="usage-head">
                <h2 id="usage-title">"Usage"</h2>
                <nav class="page-actions" aria-label="Chart range">
                    {choice(Range::Hours)}
                    {choice(Range::Days)}
                </nav>
            </div>
            <p data-testid="usage-summary">{summary}</p>
            <ul class="usage-legend" aria-hidden="true">
                <li><span class="swatch swatch-ok"></span>"Succeeded"</li>
                <li><span class="swatch swatch-refused"></span>"Refused"</li>
                <li><span class="swatch swatch-limited"></span>"Rate limited"</li>
            </ul>
            // The table below says the same: the picture is hidden from screen readers.
            {bars(range, &buckets)}
            <details class="usage-table">
                <summary>"Show as a table"</summary>
                {table(range, buckets)}
            </details>
        </section>
    }
}

/// The stacked bars with their axes.
fn bars(range: Range, buckets: &[UsageBucket]) -> impl IntoView {
    let max = buckets
        .iter()
        .map(UsageBucket::total)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = buckets.len().max(1) as f64;
    let slot = (WIDTH - LEFT) / n;
    let bar_w = (slot * 0.7).max(1.0);
    let y = |v: u64| plot_h * v as f64 / max as f64;
    let columns = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
            let mut base = TOP + plot_h;
            let mut part = |v: u64, class: &'static str| {
                let h = y(v);
                base -= h;
                (v > 0).then(|| {
                    view! { <rect class=class x=x y=base width=bar_w height=h></rect> }
                })
            };
            let ok = part(b.succeeded, "bar-ok");
            let refused = part(b.refused_total(), "bar-refused");
            let limited = part(b.rate_limited, "bar-limited");
            let tick = range.tick(i, b.start).map(|t| {
                view! {
                    <text class="axis" x=x y=HEIGHT - 6.0>{t}</text>
                }
            });
            view! {
                <g>
                    <title>
                        {format!(
                            "{}: {} succeeded, {} refused{}, {} rate limited",
                            range.when(b.start),
                            b.succeeded,
                            b.refused_total(),
                            by_code(b),
                            b.rate_limited
                        )}
                    </title>
                    {ok}
                    {refused}
                    {limited}
                    {tick}
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="usage-bars"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            aria-hidden="true"
            data-testid="usage-bars"
        >
            <text class="axis" x="0" y=TOP + 10.0>{max.to_string()}</text>
            <text class="axis" x="0" y=TOP + plot_h>"0"</text>
            <line class="baseline" x1=LEFT x2=WIDTH y1=TOP + plot_h y2=TOP + plot_h></line>
            {columns}
        </svg>
    }
}

fn table(range: Range, buckets: Vec<UsageBucket>) -> impl IntoView {
    let first = match range {
        Range::Hours => "Hour (UTC)",
        Range::Days => "Day (UTC)",
    };
    view! {
        <div class="table-wrap">
            <table data-testid="usage-table">
                <caption class="sr-only">{format!("Requests, {}", range.label().to_lowercase())}</caption>
                <thead>
                    <tr>
                        <th scope="col">{first}</th>
                        <th scope="col">"Succeeded"</th>
                        <th scope="col">"Refused"</th>
                        <th scope="col">"Rate limited"</th>
                    </tr>
                </thead>
                <tbody>
                    {buckets
                        .into_iter()
                        .rev()
                        .map(|b| {
                            view! {
                                <tr>
                                    <th scope="row">{range.when(b.start)}</th>
                                    <td>{b.succeeded.to_string()}</td>
                                    <td>{refused_words(&b)}</td>
                                    <td>{b.rate_limited.to_string()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
