//! The keys list's search, filters and page, kept in the URL (`/keys?q=ci&status=active&…`):
//! a link, a reload or the browser's Back button shows the same list at the same page.

use crate::api_keys::api::KeyFilter;
use crate::api_keys::paging::{href, Paging};
use latchkey_domain::views::encode_component;

/// The list the URL asks for; the server reads it, the filters island writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub search: String,
    pub include_revoked: bool,
    /// `None` ("All"): every key but revoked ones, unless `include_revoked`.
    pub status: Option<KeyFilter>,
    pub paging: Paging,
}

impl ListQuery {
    /// From the query's parameters, `get` reading one by name.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            search: get("q").unwrap_or_default(),
            include_revoked: get("revoked").as_deref() == Some("1"),
            status: get("status").and_then(|s| s.parse().ok()),
            paging: Paging::parse(get("before").as_deref(), get("trail").as_deref()),
        }
    }

    /// The list's URL.
    pub fn href(&self) -> String {
        let mut params = filter_params(&self.search, self.include_revoked, self.status);
        params.extend(self.paging.params());
        href("/keys", &params)
    }

    /// The same list at another page.
    pub fn at(&self, paging: Paging) -> Self {
        Self {
            paging,
            ..self.clone()
        }
    }
}

/// `q`, `revoked` and `status`, in that order, each left out when it is the default.
fn filter_params(search: &str, include_revoked: bool, status: Option<KeyFilter>) -> Vec<String> {
    let mut parts = Vec::new();
    if !search.is_empty() {
        parts.push(format!("q={}", encode_component(search)));
    }
    if include_revoked {
        parts.push("revoked=1".to_owned());
    }
    if let Some(f) = status {
        parts.push(format!("status={}", f.as_str()));
    }
    parts
}

/// The first page of the list with these filters (a cursor from other filters means nothing).
/// The filter form itself now builds this URL in the browser (`FilterForm`); the tests keep it
/// to pin down the URL shape both agree on.
#[cfg(test)]
fn filters_href(search: &str, include_revoked: bool, status: Option<KeyFilter>) -> String {
    href("/keys", &filter_params(search, include_revoked, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_only_what_differs_from_the_plain_list() {
        assert_eq!(filters_href("", false, None), "/keys");
        assert_eq!(
            filters_href("E2E", false, Some(KeyFilter::Active)),
            "/keys?q=E2E&status=active"
        );
        assert_eq!(filters_href("a b", true, None), "/keys?q=a%20b&revoked=1");
    }

    #[test]
    fn a_url_reads_back_as_the_same_list() {
        let url = "q=ci&revoked=1&status=disabled&before=9&trail=-";
        let pairs: Vec<(&str, &str)> = url.split('&').filter_map(|p| p.split_once('=')).collect();
        let list = ListQuery::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        assert_eq!(list.search, "ci");
        assert!(list.include_revoked);
        assert_eq!(list.status, Some(KeyFilter::Disabled));
        assert_eq!(list.href(), format!("/keys?{url}"));
        assert_eq!(
            list.at(Paging::default()).href(),
            "/keys?q=ci&revoked=1&status=disabled"
        );
    }
}
