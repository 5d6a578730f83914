//! The connect-time gate against SSRF: the webhook client resolves names through
//! [`GuardedResolver`], which drops every address inside the server's network (and fails when
//! none is left), so a name that resolves inside — at save time or only later, by DNS
//! rebinding — is never connected to. reqwest skips resolvers for literal IPs, so the worker
//! checks those itself ([`literal_refused`]) before sending.

use latchkey_domain::webhooks::address::classify;
use std::net::{IpAddr, SocketAddr};

/// Why a name was not resolved: every address it has is inside the server's network. The
/// worker finds it in a failed request's error chain and logs [`REFUSED_ATTEMPT`] only.
///
/// [`REFUSED_ATTEMPT`]: latchkey_domain::webhooks::address::REFUSED_ATTEMPT
#[derive(Debug)]
pub struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every address of the name is inside the server's network")
    }
}

impl std::error::Error for Refused {}

/// The public addresses among `addrs`; `Err(Refused)` when there are none (and there were
/// some: a name that does not resolve is a plain lookup failure).
pub fn admit(addrs: impl IntoIterator<Item = SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
    let mut seen = false;
    let kept: Vec<SocketAddr> = addrs
        .into_iter()
        .inspect(|_| seen = true)
        .filter(|a| classify(a.ip()).is_public())
        .collect();
    if seen && kept.is_empty() {
        Err(Refused)
    } else {
        Ok(kept)
    }
}

/// Resolves with the system resolver (getaddrinfo, through tokio), then [`admit`]s.
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept = admit(found)?;
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `url` names a literal IP inside the server's network (reqwest connects to those
/// without asking the resolver).
pub fn literal_refused(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let ip: IpAddr = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => v4.into(),
        Some(url::Host::Ipv6(v6)) => v6.into(),
        _ => return false,
    };
    !classify(ip).is_public()
}

/// Whether a failed request failed because the gate refused its address.
pub fn was_refused(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<Refused>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// `scheme://host[:port]` of an endpoint's address: what the audit log keeps (the path and
/// query may hold the receiver's own secret).
pub fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    fn sa(s: &str) -> SocketAddr {
        s.parse().expect("a socket address")
    }

    #[test]
    fn only_public_addresses_are_kept_and_none_left_is_a_refusal() {
        let mixed = [sa("127.0.0.1:0"), sa("93.184.216.34:0"), sa("[fd00::1]:0")];
        assert_eq!(
            admit(mixed).expect("one is public"),
            [sa("93.184.216.34:0")]
        );
        for inside in [
            vec![sa("127.0.0.1:0")],
            vec![sa("10.1.2.3:0"), sa("[::1]:0")],
            vec![sa("169.254.169.254:0")],
            vec![sa("[::ffff:127.0.0.1]:0")],
        ] {
            assert!(admit(inside.clone()).is_err(), "{inside:?}");
        }
        assert_eq!(admit([]).expect("nothing to refuse"), []);
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
        // `localhost` resolves offline, to 127.0.0.1 and/or ::1: both inside.
        let name: reqwest::dns::Name = "localhost".parse().expect("a name");
        let err = match GuardedResolver.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        assert!(err.is::<Refused>(), "{err}");
    }

    #[test]
    fn literal_addresses_are_checked_and_origins_drop_path_and_query() {
        assert!(literal_refused("http://127.0.0.1:9/x"));
        assert!(literal_refused("https://[::ffff:10.0.0.1]/"));
        assert!(!literal_refused("https://93.184.216.34/x"));
        assert!(!literal_refused("https://hooks.example.com/x"));
        assert_eq!(
            origin("https://hooks.example.com/in/s3cr3t?token=abc"),
            "https://hooks.example.com"
        );
        assert_eq!(origin("http://127.0.0.1:9000/x"), "http://127.0.0.1:9000");
    }
}
