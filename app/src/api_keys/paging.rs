//! Keyset paging kept in the URL: `before` is this page's cursor and `trail` the cursors we came
//! through (`-` for the first page), so Newer goes back without the server remembering anything,
//! and a reload or the browser's Back button shows the same page.

use leptos::prelude::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub before: Option<i64>,
    pub trail: Vec<Option<i64>>,
}

/// A cursor in the URL: a number, or `-` (anything else) for the first page.
fn cursor(s: &str) -> Option<i64> {
    s.parse().ok()
}

impl Paging {
    /// From the `before` and `trail` query parameters.
    pub fn parse(before: Option<&str>, trail: Option<&str>) -> Self {
        Self {
            before: before.and_then(cursor),
            trail: trail
                .map(|t| t.split(',').map(cursor).collect())
                .unwrap_or_default(),
        }
    }

    /// `before=…` and `trail=…`, each left out when empty.
    pub fn params(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(b) = self.before {
            parts.push(format!("before={b}"));
        }
        if !self.trail.is_empty() {
            let t: Vec<String> = self
                .trail
                .iter()
                .map(|c| c.map_or_else(|| "-".to_owned(), |c| c.to_string()))
                .collect();
            parts.push(format!("trail={}", t.join(",")));
        }
        parts
    }

    /// The next (older) page, starting at `next`.
    pub fn older(&self, next: i64) -> Self {
        let mut trail = self.trail.clone();
        trail.push(self.before);
        Self {
            before: Some(next),
            trail,
        }
    }

    /// The page we came from, if we came through one.
    pub fn newer(&self) -> Option<Self> {
        let mut trail = self.trail.clone();
        let before = trail.pop()?;
        Some(Self { before, trail })
    }
}

/// `path` with `params` as its query, or `path` alone when there are none.
pub fn href(path: &str, params: &[String]) -> String {
    if params.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

/// Newer / Older as links; a disabled button where there is nowhere to go.
#[component]
pub fn PageLinks(
    newer: Option<String>,
    older: Option<String>,
    newer_testid: &'static str,
    older_testid: &'static str,
) -> impl IntoView {
    let link = |to: Option<String>, testid: &'static str, label: &'static str| match to {
        Some(to) => view! { <a class="btn" href=to data-testid=testid>{label}</a> }.into_any(),
        None => view! {
            <button type="button" class="btn" disabled data-testid=testid>{label}</button>
        }
        .into_any(),
    };
    view! {
        <nav class="pager" aria-label="Pages">
            {link(newer, newer_testid, "Newer")}
            {link(older, older_testid, "Older")}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_then_newer_comes_back_to_the_first_page() {
        let first = Paging::default();
        assert_eq!(first.params(), Vec::<String>::new());
        assert_eq!(first.newer(), None);
        let second = first.older(40);
        assert_eq!(second.params(), ["before=40", "trail=-"]);
        let third = second.older(20);
        assert_eq!(third.params(), ["before=20", "trail=-,40"]);
        assert_eq!(Paging::parse(Some("20"), Some("-,40")), third);
        assert_eq!(third.newer(), Some(second.clone()));
        assert_eq!(second.newer(), Some(first));
    }

    #[test]
    fn href_leaves_out_an_empty_query() {
        assert_eq!(href("/keys", &[]), "/keys");
        assert_eq!(href("/keys", &["q=a".to_owned()]), "/keys?q=a");
    }
}
