//! What an endpoint may be: an https address outside the server's network (unless the operator
//! allows private addresses; then plain http to this machine too, for local receivers and
//! tests), no credentials in it, a short description, known events.

use super::EndpointInput;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::webhooks::address::{classify, internal_name, INTERNAL_ADDRESS};
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

/// Whether `host` is inside the server's network as written (a literal IP after the `url`
/// crate's normalisation, so `2130706433` is 127.0.0.1; or a plainly internal name). Other
/// names are checked when connecting.
fn internal(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => internal_name(d),
        url::Host::Ipv4(ip) => !classify((*ip).into()).is_public(),
        url::Host::Ipv6(ip) => !classify((*ip).into()).is_public(),
    }
}

/// The normalised address, or why it cannot be used.
pub(super) fn url(raw: &str, allow_private: bool) -> Result<String, String> {
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
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("Use an https:// address.".into());
    }
    if !allow_private && internal(&host) {
        return Err(INTERNAL_ADDRESS.into());
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private && loopback(&host) => {}
        "http" if allow_private => {
            return Err("Use https (plain http is allowed only to localhost).".into())
        }
        _ => return Err("Use an https:// address.".into()),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Leave credentials out of the address; verify the signature instead.".into());
    }
    Ok(parsed.to_string())
}

pub(super) fn input(input: &EndpointInput, allow_private: bool) -> AppResult<Checked> {
    let url = url(&input.url, allow_private).map_err(|m| AppError::field("url", m))?;
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
    fn addresses_must_be_https_and_outside_unless_private_ones_are_allowed() {
        // (address, allowed by default, allowed with --webhook-allow-private)
        for (raw, public, private) in [
            ("https://example.com/hooks", true, true),
            ("https://93.184.216.34/hooks", true, true),
            ("http://127.0.0.1:9000/x", false, true),
            ("http://localhost:9000/x", false, true),
            ("http://[::1]:9000/x", false, true),
            ("http://example.com/hooks", false, false),
            ("http://10.0.0.1/hooks", false, false),
            ("https://10.0.0.1/hooks", false, true),
            ("https://metadata.google.internal/", false, true),
            ("ftp://example.com/", false, false),
            ("https://user:pw@example.com/", false, false),
            ("example.com/hooks", false, false),
            ("", false, false),
        ] {
            assert_eq!(url(raw, false).is_ok(), public, "{raw}");
            assert_eq!(url(raw, true).is_ok(), private, "{raw} (private allowed)");
        }
        assert!(url(
            &format!("https://example.com/{}", "a".repeat(URL_MAX)),
            false
        )
        .is_err());
    }

    #[test]
    fn the_measured_internal_addresses_are_refused_as_inside_the_network() {
        for raw in [
            "http://127.0.0.1:6379/",
            "http://2130706433/",
            "https://10.0.0.5/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/",
            "https://100.64.0.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "http://localhost/",
        ] {
            assert_eq!(url(raw, false), Err(INTERNAL_ADDRESS.to_owned()), "{raw}");
        }
    }

    #[test]
    fn events_are_known_deduplicated_and_in_table_order() {
        let checked = input(
            &EndpointInput {
                url: "https://example.com".into(),
                description: String::new(),
                events: vec![
                    "api_key.leaked".into(),
                    "api_key.created".into(),
                    "api_key.leaked".into(),
                ],
            },
            false,
        )
        .expect("valid");
        assert_eq!(checked.events, ["api_key.created", "api_key.leaked"]);
        for bad in [
            vec![],
            vec!["webhook.test".to_owned()],
            vec!["nope".to_owned()],
        ] {
            assert!(input(
                &EndpointInput {
                    url: "https://example.com".into(),
                    description: String::new(),
                    events: bad,
                },
                false,
            )
            .is_err());
        }
    }
}
