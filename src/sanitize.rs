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
    // Fast path: printable ASCII only, short enough.
    if s.len() <= max_chars && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max_chars + 32));
    let mut chars = s.chars().peekable();
    let mut kept = 0usize;
    let mut total = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / SOS / PM / APC introducers.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => push(&mut out, ' ', &mut kept, &mut total, max_chars),
            c if c.is_control() => {}
            // Bidi embeddings/overrides/isolates and marks that reorder text.
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{061c}' => {}
            c => push(&mut out, c, &mut kept, &mut total, max_chars),
        }
    }
    if total > kept {
        out.push_str(&format!(" …[+{} chars]", total - kept));
    }
    Cow::Owned(out)
}

#[inline]
fn push(out: &mut String, c: char, kept: &mut usize, total: &mut usize, max: usize) {
    *total += 1;
    if *kept < max {
        out.push(c);
        *kept += 1;
    }
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // nF sequences: intermediates 0x20–0x2F then one final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        // Two-byte sequences (ESC 7, ESC c, ESC =, …): the byte is dropped.
        _ => {}
    }
}

/// CSI: parameters and intermediates, then a final byte 0x40–0x7E.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop at anything that cannot be part of a CSI.
            return;
        }
    }
}

/// OSC/DCS/SOS/PM/APC: up to BEL, ST (ESC \) or C1 ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
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
    fn clean_text_is_borrowed() {
        assert!(is_clean("GET /health 200"));
        assert!(!is_clean("a\u{1b}[0m"));
    }
}
