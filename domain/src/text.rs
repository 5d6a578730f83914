//! Text that people type and others read later (key names, descriptions, revoke reasons): it
//! must not carry characters that act on a terminal or reorder what a reader sees.

/// Whether `c` is a control character (Unicode category Cc, tab and newline included) or a
/// bidirectional mark, embedding, override or isolate (the "Trojan Source" characters).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The first unsafe character in `s`, if any.
pub fn first_unsafe(s: &str) -> Option<char> {
    s.chars().find(|c| is_unsafe_char(*c))
}

/// A field error message when `s` holds an unsafe character (naming it as `U+XXXX`, since it
/// may be invisible); `None` when the text is clean.
pub fn unsafe_text_error(s: &str) -> Option<String> {
    first_unsafe(s).map(|c| {
        format!(
            "Remove control and text-direction characters (found U+{:04X}).",
            u32::from(c)
        )
    })
}

/// `s` with every unsafe character escaped as `str::escape_debug` would (`\t`, `\u{1b}`,
/// `\u{202e}`), everything else as is: safe to print to a terminal.
pub fn escape_unsafe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_unsafe() {
        for c in [
            '\0', '\t', '\n', '\r', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{61c}',
            '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            assert!(is_unsafe_char(c), "{:?}", c);
        }
        for c in ['a', ' ', 'é', '—', '中', '\u{200b}', '\u{2065}', '\u{202f}'] {
            assert!(!is_unsafe_char(c), "{:?}", c);
        }
        assert_eq!(unsafe_text_error("Billing sync · prod"), None);
        let msg = unsafe_text_error("evil\u{202e}gpj.exe").expect("refused");
        assert!(msg.contains("U+202E"), "{msg}");
        assert!(unsafe_text_error("a\u{1b}[31m").is_some());
    }

    #[test]
    fn escaping_leaves_nothing_a_terminal_acts_on() {
        let s = escape_unsafe("red\u{1b}[31m\ttab\u{202e}rtl é");
        assert_eq!(s, "red\\u{1b}[31m\\ttab\\u{202e}rtl é");
        assert!(first_unsafe(&s).is_none());
    }
}
