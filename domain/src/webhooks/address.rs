//! Where a webhook may be sent: only to the public internet unless the operator says otherwise
//! (`--webhook-allow-private`). A tenant admin chooses the address and reads the delivery log,
//! so an endpoint inside the server's network would let them map and poke it (SSRF).
//! Pure: the store applies it when an endpoint is saved and again to every resolved address
//! right before connecting (so DNS rebinding cannot get past it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a save answers for an internal address (a field error on `url`).
pub const INTERNAL_ADDRESS: &str = "That address is inside the server's network";

/// What the delivery log shows for an attempt refused at connect time: never a status, a
/// latency or an error kind, which would make the log a probe.
pub const REFUSED_ATTEMPT: &str = "Refused: address inside the server's network";

/// Which kind of address an IP is, as far as sending webhooks goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Public,
    /// `127/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `169.254/16` (cloud metadata lives here), `fe80::/10`.
    LinkLocal,
    /// `100.64/10`, carrier-grade NAT (often the provider's own network).
    SharedCgnat,
    /// `fc00::/7`, and the deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// IPv4-mapped (`::ffff:0:0/96`) or -compatible (`::/96`) IPv6; NAT64 and 6to4 addresses
    /// are judged by the IPv4 address inside them.
    Ipv4InIpv6,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `0.0.0.0/8`, `::` (connecting to them reaches this machine).
    Unspecified,
    /// Broadcast, documentation, benchmarking, protocol-assignment and future-use ranges:
    /// nothing a receiver legitimately lives on.
    Reserved,
}

impl AddressKind {
    /// Whether a webhook may go there without `--webhook-allow-private`.
    pub fn is_public(self) -> bool {
        self == AddressKind::Public
    }
}

/// Classifies one address.
pub fn classify(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressKind {
    use AddressKind as K;
    if in_v4(ip, [0, 0, 0, 0], 8) {
        K::Unspecified
    } else if ip.is_loopback() {
        K::Loopback
    } else if ip.is_private() {
        K::Private
    } else if ip.is_link_local() {
        K::LinkLocal
    } else if in_v4(ip, [100, 64, 0, 0], 10) {
        K::SharedCgnat
    } else if ip.is_multicast() {
        K::Multicast
    } else if [
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([240, 0, 0, 0], 4),
    ]
    .iter()
    .any(|(net, p)| in_v4(ip, *net, *p))
    {
        // 240/4 holds 255.255.255.255 (broadcast) too.
        K::Reserved
    } else {
        K::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressKind {
    use AddressKind as K;
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let through = |v4: Ipv4Addr| match classify_v4(v4) {
        K::Public => K::Public,
        _ => K::Ipv4InIpv6,
    };
    if ip.is_unspecified() {
        K::Unspecified
    } else if ip.is_loopback() {
        K::Loopback
    } else if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        // Mapped (`::ffff:a.b.c.d`) or compatible (`::a.b.c.d`): refused whatever is inside.
        K::Ipv4InIpv6
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..3] == [0x64, 0xff9b, 1] {
        through(embedded(s[6], s[7]))
    } else if s[0] == 0x2002 {
        through(embedded(s[1], s[2]))
    } else if ip.is_unicast_link_local() {
        K::LinkLocal
    } else if ip.is_unique_local() || s[0] & 0xffc0 == 0xfec0 {
        K::UniqueLocal
    } else if ip.is_multicast() {
        K::Multicast
    } else if (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0)) || s[..4] == [0x100, 0, 0, 0] {
        // Documentation, Teredo (tunnels to anywhere), discard-only.
        K::Reserved
    } else {
        K::Public
    }
}

/// Whether a host name is plainly internal, without resolving it: `localhost` and names under
/// it, names under suffixes only ever used inside networks, and single-label names (resolved
/// through the server's own search domains). Others are checked when connecting.
pub fn internal_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    const SUFFIXES: [&str; 7] = [
        "localhost",
        "local",
        "internal",
        "localdomain",
        "home.arpa",
        "lan",
        "intranet",
    ];
    !host.contains('.')
        || SUFFIXES
            .iter()
            .any(|s| host == *s || host.ends_with(&format!(".{s}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressKind as K;

    #[test]
    fn every_internal_range_is_refused_and_public_addresses_are_not() {
        for (ip, kind) in [
            ("127.0.0.1", K::Loopback),
            ("127.255.0.9", K::Loopback),
            ("::1", K::Loopback),
            ("10.0.0.5", K::Private),
            ("172.16.0.1", K::Private),
            ("172.31.255.255", K::Private),
            ("192.168.1.1", K::Private),
            ("169.254.169.254", K::LinkLocal),
            ("fe80::1", K::LinkLocal),
            ("100.64.0.1", K::SharedCgnat),
            ("100.127.255.254", K::SharedCgnat),
            ("fd00::1", K::UniqueLocal),
            ("fc00::1", K::UniqueLocal),
            ("fec0::1", K::UniqueLocal),
            ("::ffff:127.0.0.1", K::Ipv4InIpv6),
            ("::ffff:8.8.8.8", K::Ipv4InIpv6),
            ("::127.0.0.1", K::Ipv4InIpv6),
            ("64:ff9b::10.0.0.1", K::Ipv4InIpv6),
            ("64:ff9b::8.8.8.8", K::Public),
            ("2002:7f00:1::", K::Ipv4InIpv6),
            ("2002:808:808::1", K::Public),
            ("224.0.0.1", K::Multicast),
            ("239.255.255.250", K::Multicast),
            ("ff02::1", K::Multicast),
            ("0.0.0.0", K::Unspecified),
            ("0.1.2.3", K::Unspecified),
            ("::", K::Unspecified),
            ("255.255.255.255", K::Reserved),
            ("240.0.0.1", K::Reserved),
            ("192.0.2.10", K::Reserved),
            ("198.18.0.1", K::Reserved),
            ("2001:db8::1", K::Reserved),
            ("2001::1", K::Reserved),
            ("8.8.8.8", K::Public),
            ("1.1.1.1", K::Public),
            ("172.32.0.1", K::Public),
            ("100.128.0.1", K::Public),
            ("169.253.255.255", K::Public),
            ("2606:4700:4700::1111", K::Public),
            ("2a00:1450:4001::1", K::Public),
        ] {
            let parsed: IpAddr = ip.parse().expect("an address");
            assert_eq!(classify(parsed), kind, "{ip}");
            assert_eq!(kind.is_public(), kind == K::Public);
        }
    }

    #[test]
    fn plainly_internal_names_are_told_apart_from_the_rest() {
        for (name, internal) in [
            ("localhost", true),
            ("LOCALHOST.", true),
            ("api.localhost", true),
            ("metadata", true),
            ("redis", true),
            ("metadata.google.internal", true),
            ("printer.local", true),
            ("nas.home.arpa", true),
            ("hooks.example.com", false),
            ("example.com.", false),
            ("localhost.example.com", false),
        ] {
            assert_eq!(internal_name(name), internal, "{name}");
        }
    }
}
