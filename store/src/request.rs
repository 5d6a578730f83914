//! What we learn from the HTTP request: client address, cookies, and whether it is cross-site.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The client address: the socket peer, or the right-most untrusted `X-Forwarded-For` hop when
/// the peer is a trusted proxy. `None` when the peer is unknown (in-process calls), or when the
/// hop that would be the client is not an address (so only an empty allowlist passes).
pub fn peer_client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    peer.and_then(|p| resolve_forwarded(p, headers, trusted))
}

/// As [`peer_client_ip`], with an unknown client read as the unspecified address (for audit
/// events and throttles, which need some address).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    peer_client_ip(peer, headers, trusted).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Walks `X-Forwarded-For` from the right while hops are trusted proxies. A hop reached on the
/// walk that is not an address makes the client unknown (`None`): a junk hop must never leave
/// the proxy's own (perhaps allowlisted) address standing in for the client.
pub fn resolve_forwarded(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        // A value that is not even text is as unreadable as a junk hop.
        hops.extend(value.to_str().ok()?.split(','));
    }
    for hop in hops.iter().rev() {
        let ip = parse_hop(hop)?;
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry as proxies send it: `203.0.113.9`, `203.0.113.9:51234`,
/// `2001:db8::1`, `[2001:db8::1]:443`, or quoted `"[2001:db8::1]"`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let hop = hop
        .strip_prefix('"')
        .and_then(|h| h.strip_suffix('"'))
        .unwrap_or(hop)
        .trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// The value of one cookie from the `Cookie` header(s).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether a state-changing request comes from another site. Browsers send `Sec-Fetch-Site`
/// (modern) and `Origin` (all POSTs); non-browser clients send neither and are not CSRF vectors.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        let host = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .unwrap_or("");
        return origin == "null" || !origin_host.eq_ignore_ascii_case(host);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_detection() {
        assert!(!is_cross_site(&headers(&[])));
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(is_cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(is_cross_site(&headers(&[
            ("origin", "null"),
            ("host", "a")
        ])));
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.1.1.1")]);
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.4".parse().expect("ip");
        assert_eq!(
            resolve_forwarded(proxy, &h, &trusted),
            Some("203.0.113.9".parse::<IpAddr>().expect("ip"))
        );
        assert_eq!(resolve_forwarded(stranger, &h, &trusted), Some(stranger));
        assert_eq!(resolve_forwarded(proxy, &h, &[]), Some(proxy));
    }

    #[test]
    fn forwarded_hops_with_ports_and_brackets_are_addresses() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        for (xff, client) in [
            ("203.0.113.9:51234", "203.0.113.9"),
            (" 203.0.113.9 ", "203.0.113.9"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("\"[2001:db8::1]\"", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("\"203.0.113.9:80\", 10.0.0.7:8080", "203.0.113.9"),
            // Junk left of the client is never reached, so it does not matter.
            ("garbage, 203.0.113.9", "203.0.113.9"),
        ] {
            let h = headers(&[("x-forwarded-for", xff)]);
            assert_eq!(
                resolve_forwarded(proxy, &h, &trusted),
                Some(client.parse().expect("ip")),
                "{xff}"
            );
        }
    }

    #[test]
    fn a_junk_hop_makes_the_client_unknown_never_the_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        for xff in [
            "unknown",
            "garbage",
            "",
            "203.0.113.9, unknown",
            "junk, 10.0.0.7",
            "203.0.113.9:99999",
            "[203.0.113.9]",
        ] {
            let h = headers(&[("x-forwarded-for", xff)]);
            assert_eq!(resolve_forwarded(proxy, &h, &trusted), None, "{xff:?}");
            assert_eq!(peer_client_ip(Some(proxy), &h, &trusted), None, "{xff:?}");
            assert_eq!(
                client_ip(Some(proxy), &h, &trusted),
                IpAddr::from([0, 0, 0, 0]),
                "{xff:?}"
            );
        }
        // Without the header the proxy is the client; from a stranger the header is ignored.
        assert_eq!(
            peer_client_ip(Some(proxy), &headers(&[]), &trusted),
            Some(proxy)
        );
        let stranger: IpAddr = "198.51.100.4".parse().expect("ip");
        let h = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(peer_client_ip(Some(stranger), &h, &trusted), Some(stranger));
        assert_eq!(peer_client_ip(None, &h, &trusted), None);
        // A header value that is not text at all is junk too.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"203.0.113.9\xff").expect("bytes"),
        );
        assert_eq!(resolve_forwarded(proxy, &h, &trusted), None);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; lk_session=abc; b=2")]);
        assert_eq!(cookie(&h, "lk_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
