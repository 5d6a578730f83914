//! What an endpoint may be: an https address (plain http only to this machine, for local
//! receivers and tests), no credentials in it, a short description, known events.

use super::EndpointInput;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::webhooks::EventType;

pub(super) const URL_MAX: usize = 2_000;
const DESCRIPTION_MAX: usize = 200;

pub(super) struct Checked {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

/// Whether `host` names this machine (the only place plain http may go).
fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// The normalised address, or why it cannot be used.
pub(super) fn url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the address to send events to.".into());
    }
    if raw.len() > URL_MAX {
        return Err(format!("Use at most {URL_MAX} characters."));
    }
    let parsed = url::Url::parse(raw)
        .map_err(|_| "Enter a full address, like https://example.com/hooks.".to_owned())?;
    let host = parsed
        .host()
        .ok_or_else(|| "The address needs a host name.".to_owned())?;
    match parsed.scheme() {
        "https" => {}
        "http" if loopback(&host) => {}
        "http" => return Err("Use https (plain http is allowed only to localhost).".into()),
        _ => return Err("Use an https:// address.".into()),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Leave credentials out of the address; verify the signature instead.".into());
    }
    Ok(parsed.to_string())
}

pub(super) fn input(input: &EndpointInput) -> AppResult<Checked> {
    let url = url(&input.url).map_err(|m| AppError::field("url", m))?;
    let description = input.description.trim().to_owned();
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::field(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        ));
    }
    if let Some(msg) = latchkey_domain::text::unsafe_text_error(&description) {
        return Err(AppError::field("description", msg));
    }
    let mut events = Vec::new();
    for e in &input.events {
        match EventType::parse(e) {
            Some(t) if t != EventType::Test => {
                if !events.contains(&t) {
                    events.push(t);
                }
            }
            _ => return Err(AppError::field("events", format!("Unknown event: {e}"))),
        }
    }
    if events.is_empty() {
        return Err(AppError::field("events", "Choose at least one event."));
    }
    // Stored in the table's order, whatever order they came in.
    let events = EventType::subscribable()
        .filter(|t| events.contains(t))
        .map(|t| t.as_str().to_owned())
        .collect();
    Ok(Checked {
        url,
        description,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_must_be_https_except_to_this_machine() {
        for (raw, ok) in [
            ("https://example.com/hooks", true),
            ("http://127.0.0.1:9000/x", true),
            ("http://localhost:9000/x", true),
            ("http://[::1]:9000/x", true),
            ("http://example.com/hooks", false),
            ("http://10.0.0.1/hooks", false),
            ("ftp://example.com/", false),
            ("https://user:pw@example.com/", false),
            ("example.com/hooks", false),
            ("", false),
        ] {
            assert_eq!(url(raw).is_ok(), ok, "{raw}");
        }
        assert!(url(&format!("https://example.com/{}", "a".repeat(URL_MAX))).is_err());
    }

    #[test]
    fn events_are_known_deduplicated_and_in_table_order() {
        let checked = input(&EndpointInput {
            url: "https://example.com".into(),
            description: String::new(),
            events: vec![
                "api_key.leaked".into(),
                "api_key.created".into(),
                "api_key.leaked".into(),
            ],
        })
        .expect("valid");
        assert_eq!(checked.events, ["api_key.created", "api_key.leaked"]);
        for bad in [
            vec![],
            vec!["webhook.test".to_owned()],
            vec!["nope".to_owned()],
        ] {
            assert!(input(&EndpointInput {
                url: "https://example.com".into(),
                description: String::new(),
                events: bad,
            })
            .is_err());
        }
    }
}
