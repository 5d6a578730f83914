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

/// `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// How long a rolled key's overlap was, in words.
fn overlap(v: &Value) -> &'static str {
    match v.as_str() {
        Some("now") => "the old key stopped at once",
        Some("1h") => "the old key works for 1 more hour",
        Some("24h") => "the old key works for 24 more hours",
        Some("7d") => "the old key works for 7 more days",
        _ => "the old key's overlap unknown",
    }
}

/// The summary of one event's details: a sentence or two saying what happened.
pub fn summarise(action: &str, d: &Value) -> String {
    let email = || d["email"].as_str().unwrap_or("someone").to_owned();
    let role = |k: &str| d[k].as_str().unwrap_or("?").to_owned();
    match action {
        "api_key.created" => {
            let mut with = vec![
                format!("scopes {}", list(&d["scopes"])),
                format!("{} mode", d["mode"].as_str().unwrap_or("?")),
            ];
            if d["allowlist"].as_array().is_some_and(|a| !a.is_empty()) {
                with.push(format!("allowed from {}", list(&d["allowlist"])));
            }
            if let Some(at) = d["expires_at"].as_i64() {
                with.push(format!("expiring {}", format_ms(at)));
            }
            let replaces = d["rolled_from"]
                .as_str()
                .map(|from| format!(", replacing {from}"))
                .unwrap_or_default();
            format!("Created with {}{replaces}", with.join(", "))
        }
        "api_key.updated" => {
            let changes: Vec<String> = d["changes"]
                .as_object()
                .map(|changes| {
                    changes
                        .iter()
                        .map(|(field, c)| {
                            format!(
                                "{} changed from {} to {}",
                                capitalised(field),
                                text(&c["from"]),
                                text(&c["to"])
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            changes.join("; ")
        }
        "api_key.revoked" => match d["reason"].as_str().unwrap_or("") {
            "" => "Revoked, no reason given".to_owned(),
            reason => format!("Revoked: {reason}"),
        },
        "api_key.rolled" => format!(
            "Rolled to {}; {}",
            d["new_key"].as_str().unwrap_or("?"),
            overlap(&d["overlap"])
        ),
        "api_key.disabled" => "Switched off".to_owned(),
        "api_key.leaked" => {
            let at = match d["url"].as_str().unwrap_or("") {
                "" => String::new(),
                url => format!(" at {url}"),
            };
            let done = match d["action"].as_str() {
                Some("revoked") => "revoked",
                Some("disabled") => "switched off",
                _ => "already stopped",
            };
            format!("Reported leaked{at}; {done}")
        }
        "webhook.created" => format!(
            "Endpoint {} added for {}",
            d["url"].as_str().unwrap_or("?"),
            list(&d["events"])
        ),
        "webhook.updated" => format!(
            "Endpoint {} now receives {}",
            d["url"].as_str().unwrap_or("?"),
            list(&d["events"])
        ),
        "webhook.secret_rolled" => format!(
            "Signing secret of {} replaced; the old one signs for 24 more hours",
            d["url"].as_str().unwrap_or("?")
        ),
        "webhook.removed" => format!("Endpoint {} removed", d["url"].as_str().unwrap_or("?")),
        "tenant.key_safety_changed" => format!(
            "Leaked keys are now {}; unused keys reported after {} days",
            match d["leak_policy"].as_str() {
                Some("disable") => "switched off",
                _ => "revoked",
            },
            d["unused_days"].as_i64().unwrap_or(0)
        ),
        "api_key.enabled" => "Switched back on".to_owned(),
        "tenant.plan_changed" => format!(
            "Plan changed from {} to {}",
            capitalised(d["from"].as_str().unwrap_or("?")),
            capitalised(d["to"].as_str().unwrap_or("?"))
        ),
        "member.added" => format!("{} joined as {}", email(), role("role")),
        "member.joined" => format!("{} accepted the invitation as {}", email(), role("role")),
        "member.invited" => format!("{} invited as {}", email(), role("role")),
        "invitation.revoked" => format!("Invitation for {} withdrawn", email()),
        "member.role_changed" => format!(
            "{}'s role changed from {} to {}",
            email(),
            role("from"),
            role("role")
        ),
        "member.removed" => format!("{} removed (was {})", email(), role("role")),
        "user.sign_in_failed" => format!(
            "Failed for the email with SHA-256 {}",
            d["email_sha256"].as_str().unwrap_or("?")
        ),
        "audit.exported" => format!(
            "Exported as CSV, filter: {}",
            d["filter"].as_str().unwrap_or("none")
        ),
        "audit.pruned" => {
            let mut parts = Vec::new();
            if let Some(n) = d["removed"].as_i64() {
                parts.push(format!("{n} events"));
            }
            if let Some(at) = d["cut_off"].as_i64() {
                parts.push(format!("from before {}", format_ms(at)));
            }
            format!("Removed {}", parts.join(" "))
        }
        _ => {
            let parts: Vec<String> = d
                .as_object()
                .map(|obj| {
                    obj.iter()
                        .map(|(k, v)| format!("{}: {}", capitalised(k), text(v)))
                        .collect()
                })
                .unwrap_or_default();
            and_list(&parts)
        }
    }
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
                json!({"name": "CI", "mode": "test", "scopes": ["keys:read", "audit:read"], "allowlist": []}),
                "Created with scopes keys:read, audit:read, test mode",
            ),
            (
                "api_key.created",
                json!({"name": "CI", "mode": "live", "scopes": ["*"], "allowlist": ["10.0.0.0/8"], "rolled_from": "key_a"}),
                "Created with scopes *, live mode, allowed from 10.0.0.0/8, replacing key_a",
            ),
            (
                "api_key.updated",
                json!({"name": "B", "changes": {"name": {"from": "A", "to": "B"}}}),
                "Name changed from “A” to “B”",
            ),
            (
                "api_key.updated",
                json!({"name": "B", "changes": {"allowlist": {"from": [], "to": ["10.0.0.0/8"]}}}),
                "Allowlist changed from none to 10.0.0.0/8",
            ),
            (
                "api_key.revoked",
                json!({"name": "A", "reason": ""}),
                "Revoked, no reason given",
            ),
            (
                "api_key.revoked",
                json!({"name": "A", "reason": "leaked"}),
                "Revoked: leaked",
            ),
            (
                "api_key.rolled",
                json!({"new_key": "key_b", "overlap": "24h"}),
                "Rolled to key_b; the old key works for 24 more hours",
            ),
            (
                "tenant.plan_changed",
                json!({"from": "starter", "to": "professional"}),
                "Plan changed from Starter to Professional",
            ),
            (
                "member.role_changed",
                json!({"email": "a@x.io", "from": "member", "role": "admin"}),
                "a@x.io's role changed from member to admin",
            ),
            ("user.signed_in", json!({}), ""),
            (
                "something.else",
                json!({"k": "v", "n": 2}),
                "K: “v” and N: 2",
            ),
        ] {
            assert_eq!(summarise(action, &details), want, "{action}");
        }
    }
}
