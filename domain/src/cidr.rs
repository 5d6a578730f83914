//! IP allowlists: one CIDR or bare address per line, v4 or v6. Empty means "any address".

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::IpAddr;

/// A parsed allowlist, normalised (host bits cleared) so equal lists compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowlist(Vec<IpNet>);

/// One bad line, with its 1-based line number, for a field-level error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: usize,
    pub text: String,
    pub message: String,
}

/// Parses one entry: `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
pub fn parse_entry(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    if s.contains('/') {
        Err(format!("“{s}” is not a valid CIDR range"))
    } else {
        Err(format!("“{s}” is not an IP address or CIDR range"))
    }
}

/// Checks entries given as a list (API arrays, repeated CLI flags), one address or range each.
/// A blank entry would vanish in parsing and could leave the list empty, which means "any
/// address": so it is refused, as is whitespace inside an entry (it would split one entry in
/// two). Returns the message for the first bad entry, numbered from 1.
pub fn check_entries(entries: &[String]) -> Result<(), String> {
    for (i, entry) in entries.iter().enumerate() {
        if entry.trim().is_empty() {
            return Err(format!(
                "Entry {} is blank: remove it (an empty list allows any address).",
                i + 1
            ));
        }
        if entry.chars().any(char::is_whitespace) {
            return Err(format!(
                "Entry {} holds a space or line break: give one address or range per entry.",
                i + 1
            ));
        }
    }
    Ok(())
}

impl Allowlist {
    pub const MAX_ENTRIES: usize = 100;

    /// Parses text with one entry a line; blank lines are skipped. Every bad line is reported.
    /// More than [`Self::MAX_ENTRIES`] non-empty lines are refused before anything is parsed, so
    /// a huge paste costs one pass over at most that many lines, never a parse of each.
    pub fn parse_lines(text: &str) -> Result<Self, Vec<LineError>> {
        let non_empty = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(Self::MAX_ENTRIES + 1)
            .count();
        if non_empty > Self::MAX_ENTRIES {
            return Err(vec![LineError {
                line: 0,
                text: String::new(),
                message: format!("Use at most {} entries, one a line.", Self::MAX_ENTRIES),
            }]);
        }
        let mut nets = Vec::new();
        // A set for duplicates (linear), the Vec for the first-seen order.
        let mut seen = HashSet::new();
        let mut errors = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            match parse_entry(line) {
                Ok(net) => {
                    if seen.insert(net) {
                        nets.push(net);
                    }
                }
                Err(message) => errors.push(LineError {
                    line: i + 1,
                    text: line.to_owned(),
                    message,
                }),
            }
        }
        if errors.is_empty() {
            Ok(Self(nets))
        } else {
            Err(errors)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn entries(&self) -> &[IpNet] {
        &self.0
    }

    /// Empty allows any address. An IPv4-mapped IPv6 client matches IPv4 entries.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The canonical text form, one entry a line, as stored.
    pub fn to_lines(&self) -> String {
        self.0
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether every address this list allows, `other` allows too: `other` is empty (any
    /// address), or this list is not empty and each entry lies inside some entry of `other`.
    /// Families are not mixed (an IPv4-mapped IPv6 range never matches a client: see `allows`).
    pub fn is_within(&self, other: &Allowlist) -> bool {
        if other.0.is_empty() {
            return true;
        }
        !self.0.is_empty()
            && self
                .0
                .iter()
                .all(|mine| other.0.iter().any(|theirs| theirs.contains(mine)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_entries_are_never_blank_or_split() {
        let rows: &[(&[&str], bool)] = &[
            (&[], true),
            (&["10.0.0.0/8"], true),
            (&["10.0.0.0/8", "2001:db8::/32"], true),
            (&[""], false),
            (&["   "], false),
            (&["10.0.0.0/8", ""], false),
            (&[" 10.0.0.0/8"], false),
            (&["10.0.0.1\n10.0.0.2"], false),
            (&["10.0.0.1\t"], false),
        ];
        for (entries, ok) in rows {
            let owned: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
            assert_eq!(super::check_entries(&owned).is_ok(), *ok, "{entries:?}");
        }
    }

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn v4_ranges_and_addresses() {
        let a = Allowlist::parse_lines("10.0.0.0/8\n192.168.1.7\n\n  172.16.5.9/12 ").expect("ok");
        assert_eq!(a.entries().len(), 3);
        assert!(a.allows(ip("10.200.3.4")));
        assert!(a.allows(ip("192.168.1.7")));
        assert!(!a.allows(ip("192.168.1.8")));
        // Host bits are cleared: 172.16.5.9/12 means 172.16.0.0/12.
        assert!(a.allows(ip("172.31.255.255")));
        assert!(!a.allows(ip("172.32.0.0")));
        assert_eq!(a.to_lines(), "10.0.0.0/8\n192.168.1.7/32\n172.16.0.0/12");
    }

    #[test]
    fn v6_ranges_and_mapped_v4() {
        let a = Allowlist::parse_lines("2001:db8::/32\n::1\n203.0.113.0/24").expect("ok");
        assert!(a.allows(ip("2001:db8:ffff::1")));
        assert!(!a.allows(ip("2001:db9::1")));
        assert!(a.allows(ip("::1")));
        assert!(a.allows(ip("::ffff:203.0.113.77")));
        assert!(!a.allows(ip("203.0.114.1")));
    }

    #[test]
    fn empty_allows_everyone() {
        let a = Allowlist::parse_lines(" \n\n").expect("ok");
        assert!(a.is_empty());
        assert!(a.allows(ip("8.8.8.8")));
        assert!(a.allows(ip("::1")));
    }

    #[test]
    fn each_bad_line_gets_its_own_error() {
        let errs = Allowlist::parse_lines(
            "10.0.0.0/8\n10.0.0.0/33\nhello\n::1\n1.2.3.4.5\n2001:db8::/129",
        )
        .expect_err("bad");
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 5, 6]);
        assert!(errs[0].message.contains("10.0.0.0/33"));
        assert!(errs[1].message.contains("hello"));
    }

    #[test]
    fn duplicates_collapse_and_size_is_capped() {
        let a = Allowlist::parse_lines("1.2.3.4\n1.2.3.4/32").expect("ok");
        assert_eq!(a.entries().len(), 1);
        let many: String = (0..=Allowlist::MAX_ENTRIES)
            .map(|i| format!("10.0.{}.{}\n", i / 256, i % 256))
            .collect();
        assert!(Allowlist::parse_lines(&many).is_err());
    }

    #[test]
    fn the_cap_counts_lines_before_parsing_and_keeps_first_seen_order() {
        // Exactly the cap, with duplicates and blank lines: accepted, deduplicated in order.
        let mut text: String = (0..Allowlist::MAX_ENTRIES - 2)
            .map(|i| format!("10.1.{}.{}\n\n", i / 256, i % 256))
            .collect();
        text.push_str("10.1.0.0\n10.1.0.1/32\n");
        let a = Allowlist::parse_lines(&text).expect("ok");
        assert_eq!(a.entries().len(), Allowlist::MAX_ENTRIES - 2);
        assert_eq!(a.entries()[0].to_string(), "10.1.0.0/32");
        assert_eq!(a.entries()[1].to_string(), "10.1.0.1/32");
        // One line more, even a duplicate: refused with the limit, whatever the lines hold.
        text.push_str("10.1.0.0\n");
        let errs = Allowlist::parse_lines(&text).expect_err("capped");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 0);
        assert!(
            errs[0].message.contains("at most 100"),
            "{}",
            errs[0].message
        );
        let junk = "not an address\n".repeat(100_000);
        let errs = Allowlist::parse_lines(&junk).expect_err("capped");
        assert_eq!(errs.len(), 1, "one cap error, not a parse error per line");
    }

    #[test]
    fn is_within_means_no_address_more() {
        let list = |s: &str| Allowlist::parse_lines(s).expect("ok");
        let office = list("10.0.0.0/8\n2001:db8::/32\n192.0.2.7");
        // (candidate, within office)
        for (text, within) in [
            ("10.0.0.0/8", true),
            ("10.1.2.0/24\n192.0.2.7", true),
            ("2001:db8:1::/48", true),
            ("10.0.0.0/8\n2001:db8::/32\n192.0.2.7", true),
            ("", false),
            ("0.0.0.0/0", false),
            ("10.0.0.0/7", false),
            ("192.0.2.0/24", false),
            ("10.1.0.0/16\n172.16.0.0/12", false),
            ("::ffff:10.0.0.0/104", false),
            ("2001:db9::/32", false),
        ] {
            assert_eq!(list(text).is_within(&office), within, "{text:?}");
        }
        // Empty allows any address: everything is within it, and it is within nothing else.
        assert!(list("0.0.0.0/0\n::/0").is_within(&Allowlist::default()));
        assert!(Allowlist::default().is_within(&Allowlist::default()));
        assert!(!Allowlist::default().is_within(&list("0.0.0.0/0")));
    }
}
