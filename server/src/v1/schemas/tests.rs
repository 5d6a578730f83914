//! The request-field schemas against what the server enforces.

use super::*;
use latchkey_domain::text::is_unsafe_char;
use regex::Regex;

fn within(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(a, b)| (a..=b).contains(&c))
}

#[test]
fn the_character_classes_are_the_validators_own() {
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        assert_eq!(within(UNSAFE_CHARS, c), is_unsafe_char(c), "{c:?}");
        // What `trim` strips is either refused outright or named as a space.
        let space = c.is_whitespace() && !is_unsafe_char(c);
        assert_eq!(within(SPACES, c), space, "{c:?}");
    }
    let name = Regex::new(&name_pattern()).expect("regex");
    let safe = Regex::new(&safe_text_pattern()).expect("regex");
    for (text, is_name, is_safe) in [
        ("Billing sync · prod", true, true),
        ("  padded  ", true, true),
        ("", false, true),
        (" \u{3000}\u{a0}", false, true),
        ("tab\there", false, false),
        ("evil\u{202e}gpj.exe", false, false),
        ("中文", true, true),
    ] {
        assert_eq!(name.is_match(text), is_name, "{text:?}");
        assert_eq!(safe.is_match(text), is_safe, "{text:?}");
    }
}

#[test]
fn the_date_pattern_admits_exactly_the_days_after_today() {
    for today in [
        "2026-12-31",
        "2026-12-01",
        "2028-02-28",
        "2026-06-09",
        "2099-12-31",
    ] {
        // The last millisecond of `today`, and its first.
        let end = latchkey_domain::time::parse_date_end_ms(today).expect("date");
        for now in [end, end - 86_399_999] {
            let re = Regex::new(&future_date_pattern(now)).expect("regex");
            let day = day_of(now);
            for other in (day - 400)..(day + 4_000) {
                let (y, m, d) = latchkey_domain::time::civil_from_days(other);
                let date = format!("{y:04}-{m:02}-{d:02}");
                assert_eq!(re.is_match(&date), other > day, "{date} from {today}");
            }
            assert!(re.is_match("9999-12-31"));
            assert!(!re.is_match("1970-01-01"));
            assert!(!re.is_match(&format!("{today}x")));
        }
    }
}

#[test]
fn the_cidr_patterns_admit_only_what_the_allowlist_parses() {
    let v4 = Regex::new(&ipv4_cidr_pattern()).expect("regex");
    let v6 = Regex::new(&ipv6_cidr_pattern()).expect("regex");
    for ok in [
        "10.0.0.0/8",
        "0.0.0.0/0",
        "255.255.255.255/32",
        "192.168.1.7/24",
    ] {
        assert!(v4.is_match(ok), "{ok}");
        assert!(latchkey_domain::cidr::parse_entry(ok).is_ok(), "{ok}");
    }
    for ok in [
        "2001:db8::/32",
        "::/0",
        "::1/128",
        "fe80::1:2/64",
        "1:2:3:4:5:6:7:8/96",
    ] {
        assert!(v6.is_match(ok), "{ok}");
        assert!(latchkey_domain::cidr::parse_entry(ok).is_ok(), "{ok}");
    }
    for bad in [
        "10.0.0.0/33",
        "256.0.0.0/8",
        "10.0.0/8",
        "01.2.3.4/8",
        "10.0.0.0",
    ] {
        assert!(!v4.is_match(bad), "{bad}");
    }
    for bad in [
        "2001:db8::/129",
        "1:2:3:4:5:6:7:8:9/64",
        "1::2::3/64",
        "::1",
    ] {
        assert!(!v6.is_match(bad), "{bad}");
    }
}
