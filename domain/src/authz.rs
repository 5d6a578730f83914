//! Gateway forward-auth (`/v1/authz`): which scope a forwarded request needs, from the
//! operator's rules (`--authz-rule 'GET /payments/*=payments:read'`).

use std::fmt;
use std::str::FromStr;

/// One rule: a method (or any), a path pattern, and the scope the request then needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzRule {
    /// Upper-case method; `None` for `*` (any method).
    pub method: Option<String>,
    /// The path without its query; a trailing `*` matches any rest (a prefix).
    pub pattern: String,
    /// The scope needed; empty: any valid key passes.
    pub scope: String,
}

/// What a rule written on the command line got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(pub String);

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleError {}

impl FromStr for AuthzRule {
    type Err = RuleError;

    /// `METHOD PATTERN=SCOPE`, e.g. `GET /payments/*=payments:read` or `* /status=`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || {
            RuleError(format!(
                "`{s}` is not a rule: write `METHOD /path=scope`, e.g. `GET /payments/*=payments:read`"
            ))
        };
        let (lhs, scope) = s.rsplit_once('=').ok_or_else(shape)?;
        let (method, pattern) = lhs
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(shape)?;
        let (method, pattern, scope) = (method.trim(), pattern.trim(), scope.trim());
        if !pattern.starts_with('/') || pattern.contains(char::is_whitespace) {
            return Err(RuleError(format!(
                "`{s}`: the path must start with `/` and hold no spaces"
            )));
        }
        if pattern[..pattern.len() - 1].contains('*') {
            return Err(RuleError(format!("`{s}`: `*` may only end the path")));
        }
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic() || c == '*') {
            return Err(shape());
        }
        if scope.contains(char::is_whitespace) || scope.contains(',') {
            return Err(RuleError(format!("`{s}`: one scope, without spaces")));
        }
        Ok(AuthzRule {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            pattern: pattern.to_owned(),
            scope: scope.to_owned(),
        })
    }
}

impl AuthzRule {
    /// Whether the rule covers `method` on `uri` (its query is ignored).
    pub fn matches(&self, method: &str, uri: &str) -> bool {
        let path = uri.split(['?', '#']).next().unwrap_or("");
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match self.pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.pattern,
        };
        method_ok && path_ok
    }
}

/// Where a forwarded request's required scope came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required<'a> {
    /// The first rule that matched (its scope may be empty: any valid key).
    Rule(&'a str),
    /// No rule matched; the gateway named the scope itself (`X-Latchkey-Scope`).
    Header(&'a str),
    /// Neither: refused (`no_authz_rule`), never "any key passes" by default.
    Nothing,
}

/// The scope a request needs: the first matching rule, else the gateway's header. Rules come
/// first so a gateway that forwards the client's own headers cannot let it pick its scope.
pub fn required<'a>(
    rules: &'a [AuthzRule],
    method: &str,
    uri: &str,
    header: Option<&'a str>,
) -> Required<'a> {
    if let Some(rule) = rules.iter().find(|r| r.matches(method, uri)) {
        return Required::Rule(&rule.scope);
    }
    match header.map(str::trim).filter(|h| !h.is_empty()) {
        Some(scope) => Required::Header(scope),
        None => Required::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> AuthzRule {
        s.parse().expect(s)
    }

    #[test]
    fn rules_parse_or_say_why_not() {
        assert_eq!(
            rule("GET /payments/*=payments:read"),
            AuthzRule {
                method: Some("GET".into()),
                pattern: "/payments/*".into(),
                scope: "payments:read".into()
            }
        );
        assert_eq!(rule("* /status=").method, None);
        assert_eq!(rule("post /x=a:b").method.as_deref(), Some("POST"));
        for bad in [
            "GET /x",
            "/x=a",
            "GET x=a",
            "GET /a*/b=a",
            "GET /x=a b",
            "GET /x=a,b",
            "G3T /x=a",
        ] {
            assert!(bad.parse::<AuthzRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_table() {
        // (rule, method, uri, matches)
        let table = [
            ("GET /payments/*", "GET", "/payments/42", true),
            ("GET /payments/*", "GET", "/payments/", true),
            ("GET /payments/*", "GET", "/payments", false),
            ("GET /payments/*", "POST", "/payments/42", false),
            ("GET /payments/*", "get", "/payments/42?x=1", true),
            ("* /payments/*", "DELETE", "/payments/42", true),
            ("POST /refunds", "POST", "/refunds", true),
            ("POST /refunds", "POST", "/refunds?a=b", true),
            ("POST /refunds", "POST", "/refunds/1", false),
            ("* /*", "PUT", "/anything", true),
        ];
        for (r, method, uri, want) in table {
            assert_eq!(
                rule(&format!("{r}=s")).matches(method, uri),
                want,
                "{r} {method} {uri}"
            );
        }
    }

    #[test]
    fn rules_first_then_the_header_then_refused() {
        let rules = vec![
            rule("GET /payments/*=payments:read"),
            rule("* /payments/*=payments:write"),
            rule("GET /status="),
        ];
        let table = [
            ("GET", "/payments/1", None, Required::Rule("payments:read")),
            // A client-sent header cannot lower what a rule demands.
            (
                "GET",
                "/payments/1",
                Some("keys:read"),
                Required::Rule("payments:read"),
            ),
            (
                "POST",
                "/payments/1",
                None,
                Required::Rule("payments:write"),
            ),
            ("GET", "/status", Some("x:y"), Required::Rule("")),
            (
                "GET",
                "/other",
                Some("other:read"),
                Required::Header("other:read"),
            ),
            ("GET", "/other", Some("  "), Required::Nothing),
            ("GET", "/other", None, Required::Nothing),
        ];
        for (method, uri, header, want) in table {
            assert_eq!(
                required(&rules, method, uri, header),
                want,
                "{method} {uri} {header:?}"
            );
        }
    }
}
