//! Untrusted text → safe display text.
//!
//! Every string that comes from a source (names, events, tags, log lines) goes
//! through [`sanitize`] before it reaches a ratatui `Span`. It removes escape
//! sequences (CSI, OSC, DCS, SOS/PM/APC, two-byte ESC sequences), C0 and C1
//! control characters and DEL, and Unicode bidirectional overrides/isolates
//! (which reorder what the terminal shows). Tabs become a space. Lines longer
//! than [`MAX_DISPLAY_CHARS`] are cut with a marker saying how much was cut.

use std::borrow::Cow;

/// Longest text kept for display; the rest is replaced by a marker.
pub const MAX_DISPLAY_CHARS: usize = 2048;

/// Sanitize with the default length cap.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    sanitize_max(s, MAX_DISPLAY_CHARS)
}

/// Sanitize and cap at `max_chars` characters.
pub fn sanitize_max(s: &str, max_chars: usize) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    // Fast path: printable ASCII only, short enough.
    if s.len() <= max_chars && bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max_chars + 32));
    let mut kept = 0usize;
    let mut cut = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        // Copy a run of printable ASCII in one go.
        let start = i;
        while i < bytes.len() && (0x20..0x7f).contains(&bytes[i]) {
            i += 1;
        }
        if i > start {
            let take = (i - start).min(max_chars - kept);
            out.push_str(&s[start..start + take]);
            kept += take;
            cut += i - start - take;
        }
        if kept >= max_chars {
            // Past the cap: only count what is left (escape bytes included).
            cut += s[i..].chars().count();
            break;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        let rest = &s[i..];
        match c {
            '\u{1b}' => i += skip_escape(rest),
            // C1 CSI / OSC / DCS / SOS / PM / APC introducers.
            '\u{9b}' => i += skip_csi(rest),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => i += skip_string(rest),
            '\t' => {
                out.push(' ');
                kept += 1;
            }
            c if c.is_control() => {}
            // Bidi embeddings/overrides/isolates and marks that reorder text.
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{061c}' => {}
            c => {
                out.push(c);
                kept += 1;
            }
        }
    }
    if cut > 0 {
        out.push_str(&format!(" …[+{cut} chars]"));
    }
    Cow::Owned(out)
}

/// After ESC: how many bytes of `rest` belong to the sequence.
fn skip_escape(rest: &str) -> usize {
    let mut chars = rest.chars();
    match chars.next() {
        Some('[') => 1 + skip_csi(&rest[1..]),
        Some(c @ (']' | 'P' | 'X' | '^' | '_')) => c.len_utf8() + skip_string(&rest[1..]),
        // nF sequences: intermediates 0x20–0x2F then one final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            let mut n = 1;
            for c in chars {
                n += c.len_utf8();
                if !('\u{20}'..='\u{2f}').contains(&c) {
                    break;
                }
            }
            n
        }
        // Two-byte sequences (ESC 7, ESC c, ESC =, …): the byte is dropped.
        Some(c) => c.len_utf8(),
        None => 0,
    }
}

/// CSI: parameters and intermediates, then a final byte 0x40–0x7E.
fn skip_csi(rest: &str) -> usize {
    let mut n = 0;
    for c in rest.chars() {
        n += c.len_utf8();
        if ('\u{40}'..='\u{7e}').contains(&c) || !('\u{20}'..='\u{3f}').contains(&c) {
            // The final byte, or something that cannot be part of a CSI.
            return n;
        }
    }
    n
}

/// OSC/DCS/SOS/PM/APC: up to BEL, ST (ESC \\) or C1 ST.
fn skip_string(rest: &str) -> usize {
    let mut n = 0;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        n += c.len_utf8();
        match c {
            '\u{07}' | '\u{9c}' => return n,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    n += 1;
                }
                return n;
            }
            _ => {}
        }
    }
    n
}

/// True when `s` would pass through [`sanitize`] unchanged.
pub fn is_clean(s: &str) -> bool {
    matches!(sanitize(s), Cow::Borrowed(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let long = "x".repeat(MAX_DISPLAY_CHARS + 10);
        let cut = format!("{} …[+10 chars]", "x".repeat(MAX_DISPLAY_CHARS));
        let cases: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}[2J\u{1b}[Hclear", "clear"),
            ("title\u{1b}]0;pwned\u{07}after", "titleafter"),
            ("clip\u{1b}]52;c;ZWNobyBoaQ==\u{1b}\\board", "clipboard"),
            ("dcs\u{1b}P1$r\u{1b}\\end", "dcsend"),
            ("c1\u{9b}31mcsi", "c1csi"),
            ("bell\u{07}back\u{08}space\r\n", "bellbackspace"),
            ("tab\there", "tab here"),
            ("rtl\u{202e}gnp.exe", "rtlgnp.exe"),
            ("ümlaut ✓ 日本", "ümlaut ✓ 日本"),
            ("esc at end\u{1b}", "esc at end"),
            ("unterminated \u{1b}]0;title", "unterminated "),
            ("charset \u{1b}(Bok", "charset ok"),
            ("\u{fffd}invalid", "\u{fffd}invalid"),
            (&long, &cut),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn output_never_contains_controls() {
        // Every byte value, in every position of a short line.
        for b in 0u32..0x250 {
            let Some(c) = char::from_u32(b) else { continue };
            let s = format!("a{c}[1;2Hb{c}]0;x\u{7}c");
            let out = sanitize(&s);
            assert!(
                !out.chars().any(|c| c.is_control() || c == '\u{1b}'),
                "{b:#x}: {out:?}"
            );
        }
    }

    #[test]
    fn caps_count_what_was_cut() {
        let e = "é".repeat(MAX_DISPLAY_CHARS + 5);
        assert_eq!(
            sanitize(&e),
            format!("{} …[+5 chars]", "é".repeat(MAX_DISPLAY_CHARS))
        );
        let mixed = format!(
            "{}\u{1b}[31m{}",
            "a".repeat(10),
            "b".repeat(MAX_DISPLAY_CHARS)
        );
        let out = sanitize(&mixed);
        assert!(out.starts_with(&format!("{}{}", "a".repeat(10), "b".repeat(10))));
        assert!(out.ends_with(" …[+10 chars]"), "{}", &out[out.len() - 20..]);
    }

    #[test]
    fn random_input_never_leaks_controls_or_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let alphabet: Vec<char> =
            "ab \u{1b}[]P\\;0123456789m\u{7}\u{9b}\u{9c}\u{9d}\u{202e}é日\t\r\n"
                .chars()
                .collect();
        for _ in 0..20_000 {
            let len = rng.random_range(0..64);
            let s: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let out = sanitize_max(&s, 16);
            assert!(
                !out.chars()
                    .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
                "{s:?} -> {out:?}"
            );
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(is_clean("GET /health 200"));
        assert!(!is_clean("a\u{1b}[0m"));
    }
}
