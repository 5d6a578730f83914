//! One line per event saying what changed, for the page's details cell and the CSV's summary
//! column: `name “A” → “B”`, a created key's mode and scopes, a plan's from and to.

use latchkey_domain::time::format_ms;
use serde_json::Value;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("“{s}”"),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

fn list(v: &Value) -> String {
    match v {
        Value::Array(items) if !items.is_empty() => text(v),
        _ => "none".to_owned(),
    }
}

/// The summary of one event's details.
pub fn summarise(action: &str, d: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    match action {
        "api_key.created" => {
            parts.push(format!(
                "{} key {}",
                d["mode"].as_str().unwrap_or("?"),
                text(&d["name"])
            ));
            parts.push(format!("scopes: {}", list(&d["scopes"])));
            if d["allowlist"].as_array().is_some_and(|a| !a.is_empty()) {
                parts.push(format!("allowlist: {}", list(&d["allowlist"])));
            }
            if let Some(at) = d["expires_at"].as_i64() {
                parts.push(format!("expires {}", format_ms(at)));
            }
            if let Some(from) = d["rolled_from"].as_str() {
                parts.push(format!("replaces {from}"));
            }
        }
        "api_key.updated" => {
            if let Some(changes) = d["changes"].as_object() {
                for (field, c) in changes {
                    parts.push(format!("{field} {} → {}", text(&c["from"]), text(&c["to"])));
                }
            }
        }
        "api_key.revoked" => {
            let reason = d["reason"].as_str().unwrap_or("");
            parts.push(if reason.is_empty() {
                "no reason given".to_owned()
            } else {
                format!("reason: {reason}")
            });
        }
        "api_key.rolled" => {
            parts.push(format!("new key {}", d["new_key"].as_str().unwrap_or("?")));
            parts.push(format!("overlap {}", d["overlap"].as_str().unwrap_or("?")));
        }
        "tenant.plan_changed" => parts.push(format!(
            "{} → {}",
            d["from"].as_str().unwrap_or("?"),
            d["to"].as_str().unwrap_or("?")
        )),
        "member.added" | "member.role_changed" | "member.removed" => {
            if let Some(email) = d["email"].as_str() {
                parts.push(email.to_owned());
            }
            if let Some(from) = d["from"].as_str() {
                parts.push(format!("{from} → {}", d["role"].as_str().unwrap_or("?")));
            } else if let Some(role) = d["role"].as_str() {
                parts.push(format!("as {role}"));
            }
        }
        "user.sign_in_failed" => parts.push(format!(
            "email sha256 {}",
            d["email_sha256"].as_str().unwrap_or("?")
        )),
        "audit.exported" => parts.push(format!(
            "filter: {}",
            d["filter"].as_str().unwrap_or("none")
        )),
        "audit.pruned" => {
            if let Some(at) = d["cut_off"].as_i64() {
                parts.push(format!("events before {} removed", format_ms(at)));
            }
            if let Some(n) = d["removed"].as_i64() {
                parts.push(format!("{n} events"));
            }
        }
        _ => {
            if let Some(obj) = d.as_object() {
                for (k, v) in obj {
                    parts.push(format!("{k}: {}", text(v)));
                }
            }
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_say_what_changed() {
        for (action, details, want) in [
            (
                "api_key.created",
                json!({"name": "CI", "mode": "live", "scopes": ["keys:read", "audit:read"], "allowlist": []}),
                "live key “CI”; scopes: keys:read, audit:read",
            ),
            (
                "api_key.updated",
                json!({"name": "B", "changes": {"name": {"from": "A", "to": "B"}}}),
                "name “A” → “B”",
            ),
            (
                "api_key.revoked",
                json!({"name": "A", "reason": ""}),
                "no reason given",
            ),
            (
                "api_key.revoked",
                json!({"name": "A", "reason": "leaked"}),
                "reason: leaked",
            ),
            (
                "tenant.plan_changed",
                json!({"from": "starter", "to": "professional"}),
                "starter → professional",
            ),
            (
                "member.role_changed",
                json!({"email": "a@x.io", "from": "member", "role": "admin"}),
                "a@x.io; member → admin",
            ),
            ("user.signed_in", json!({}), ""),
            ("something.else", json!({"k": "v"}), "k: “v”"),
        ] {
            assert_eq!(summarise(action, &details), want, "{action}");
        }
    }
}
