//! Untrusted text → safe display text.
//!
//! Every string that comes from a source (names, events, tags, log lines), a
//! scenario, a runbook or a user file goes through [`sanitize`] before it
//! reaches a ratatui `Span` or any printed output (text, Markdown: see
//! [`markdown`]; JSON is escaped instead: see [`json`]).
//!
//! What is removed:
//! - escape sequences: CSI, OSC (incl. OSC 52), DCS, SOS/PM/APC, nF and
//!   two-byte ESC sequences, and their C1 forms (U+009B, U+009D, U+0090, …);
//! - C0 and C1 control characters and DEL (tab becomes a space);
//! - bidirectional controls, which reorder what the terminal shows: U+202A–
//!   U+202E embeddings/overrides, U+2066–U+2069 isolates, U+200E/U+200F marks,
//!   U+061C;
//! - invisible characters, which make look-alike names (`api` and `a​pi`) and
//!   which terminals and ratatui do not agree on (a desynced cursor leaves
//!   stale glyphs): every `Default_Ignorable_Code_Point` — soft hyphen U+00AD,
//!   combining grapheme joiner U+034F, Hangul fillers U+115F, U+1160, U+3164,
//!   U+FFA0, Khmer U+17B4/U+17B5, Mongolian U+180B–U+180F, zero-width space,
//!   non-joiner and joiner U+200B–U+200D, U+2060–U+206F (word joiner,
//!   invisible operators, deprecated format controls), variation selectors
//!   U+FE00–U+FE0F and U+E0100–U+E01EF, U+FEFF, U+FFF0–U+FFF8, shorthand and
//!   musical format controls, tag characters U+E0000–U+E007F and the rest of
//!   plane 14 — and the other format characters: Arabic/Syriac/Kaithi
//!   prepended number marks (U+0600–U+0605, U+06DD, U+070F, U+0890, U+0891,
//!   U+08E2, U+110BD, U+110CD), Egyptian hieroglyph format controls
//!   U+13430–U+1343F and interlinear annotation U+FFF9–U+FFFB;
//! - emoji skin-tone modifiers U+1F3FB–U+1F3FF: with them an emoji is two
//!   cells to ratatui and four to terminals that measure per code point;
//!   without them (and without ZWJ and variation selectors) every emoji is
//!   the same width everywhere;
//! - combining marks with nothing to sit on (at the start) and past
//!   [`MAX_MARKS`] on one base character (stacked marks draw over the rows
//!   above and below: "Zalgo" text can hide a neighbour's health).
//!
//! What is replaced:
//! - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR become a space;
//! - private-use characters (U+E000–U+F8FF, planes 15 and 16) and
//!   noncharacters (U+FDD0–U+FDEF, U+xFFFE/U+xFFFF) become U+FFFD: their
//!   glyph is whatever the font says (an icon font draws a green check mark),
//!   so they can't be shown as what they mean;
//! - the halfwidth katakana sound marks U+FF9E/U+FF9F become U+309B/U+309C:
//!   ratatui 0.30 draws them two cells wide where unicode-width and terminals
//!   say one (the next cell desyncs); the spacing forms are two everywhere;
//! - two sequences that ratatui (per grapheme, unicode-width's ligature
//!   rules) draws one cell wide and terminals (per code point) two: a Khmer
//!   coeng U+17D2 before a consonant loses the coeng, and Kirat Rai vowel
//!   signs U+16D63/U+16D69 + U+16D67 are composed (U+16D68–U+16D6A), as NFC
//!   does. (Arabic lam-alef is two graphemes: ratatui and terminals agree.)
//!
//! Kept: every other printable character, combining marks on a base (other
//! scripts need them), visible spaces (U+00A0, U+2000–U+200A, U+3000, …) and
//! U+FFFC/U+FFFD, which have a glyph of their own.
//!
//! Invariant: each character of the output has a defined width, the only
//! zero-width ones are at most [`MAX_MARKS`] marks after a base character,
//! and [`width`] (the sum of the characters' widths, what a terminal advances)
//! equals the cells ratatui draws. Not handled (no sanitizer can): East Asian
//! ambiguous-width characters on a terminal set to draw them wide, and code
//! points newer than the terminal's Unicode tables.
//!
//! Lines longer than [`MAX_DISPLAY_CHARS`] are cut with a marker saying how
//! much was cut.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

pub mod json;
pub mod markdown;
mod width;

pub use width::{fit, fit_right, truncate, width};

/// Longest text kept for display; the rest is replaced by a marker.
pub const MAX_DISPLAY_CHARS: usize = 2048;

/// Most combining marks kept on one base character.
pub const MAX_MARKS: usize = 4;

/// What the sanitizer does with one character (escape sequences aside: ESC
/// and the C1 string introducers also swallow what follows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Keep,
    /// Removed.
    Drop,
    /// Becomes a space.
    Space,
    /// Becomes this character.
    Replace(char),
}

/// The class of `c`; see the module doc for the set and the reasons.
pub fn class(c: char) -> Class {
    match c {
        '\u{20}'..='\u{7e}' => Class::Keep,
        '\t' | '\u{2028}' | '\u{2029}' => Class::Space,
        c if c.is_control() => Class::Drop,
        '\u{a0}'..='\u{2ff}' => {
            if c == '\u{ad}' {
                Class::Drop
            } else {
                Class::Keep
            }
        }
        '\u{034f}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061c}'
        | '\u{06dd}'
        | '\u{070f}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08e2}'
        | '\u{115f}'..='\u{1160}'
        | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{3164}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}'
        | '\u{ffa0}'
        | '\u{fff0}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{1f3fb}'..='\u{1f3ff}'
        | '\u{e0000}'..='\u{e0fff}' => Class::Drop,
        '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..='\u{10ffff}' | '\u{fdd0}'..='\u{fdef}' => {
            Class::Replace('\u{fffd}')
        }
        // ratatui counts the halfwidth (semi-)voiced sound marks twice; the
        // spacing forms are two cells to everyone.
        '\u{ff9e}' => Class::Replace('\u{309b}'),
        '\u{ff9f}' => Class::Replace('\u{309c}'),
        c if (c as u32) & 0xfffe == 0xfffe => Class::Replace('\u{fffd}'),
        _ => Class::Keep,
    }
}

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
    // Whether a combining mark has a character to sit on, and how many sit
    // on it already.
    let mut base = false;
    let mut marks = 0usize;
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
            if take > 0 {
                base = true;
                marks = 0;
            }
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
        let push = match c {
            '\u{1b}' => {
                i += skip_escape(rest);
                None
            }
            // C1 CSI / OSC / DCS / SOS / PM / APC introducers.
            '\u{9b}' => {
                i += skip_csi(rest);
                None
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                i += skip_string(rest);
                None
            }
            c => match class(c) {
                Class::Keep => Some(c),
                Class::Drop => None,
                Class::Space => Some(' '),
                Class::Replace(r) => Some(r),
            },
        };
        if let Some(mut c) = push {
            if matches!(c, '\u{1780}'..='\u{17af}' | '\u{16d67}') {
                // Two sequences ratatui draws as one cell and terminals as
                // two: a Khmer coeng before a consonant (the coeng goes) and
                // Kirat Rai vowel signs (composed, as NFC would).
                match (out.chars().next_back(), c) {
                    (Some('\u{17d2}'), c) if khmer_coeng_consonant(c) => {
                        out.pop();
                        kept -= 1;
                    }
                    (Some(last @ ('\u{16d63}' | '\u{16d67}' | '\u{16d69}')), '\u{16d67}') => {
                        out.pop();
                        kept -= 1;
                        c = match last {
                            '\u{16d63}' => '\u{16d69}',
                            '\u{16d67}' => '\u{16d68}',
                            _ => '\u{16d6a}',
                        };
                    }
                    _ => {}
                }
            }
            if c.width() == Some(0) {
                // A combining mark (or another zero-width character that
                // joins the one before it).
                if !base || marks >= MAX_MARKS {
                    continue;
                }
                marks += 1;
            } else {
                base = true;
                marks = 0;
            }
            out.push(c);
            kept += 1;
        }
    }
    if cut > 0 {
        out.push_str(&format!(" …[+{cut} chars]"));
    }
    Cow::Owned(out)
}

/// Consonants that unicode-width draws in zero cells after U+17D2 COENG.
fn khmer_coeng_consonant(c: char) -> bool {
    matches!(c,
        '\u{1780}'..='\u{1782}'
        | '\u{1784}'..='\u{1787}'
        | '\u{1789}'..='\u{178c}'
        | '\u{178e}'..='\u{1793}'
        | '\u{1795}'..='\u{1798}'
        | '\u{179b}'..='\u{179d}'
        | '\u{17a0}'
        | '\u{17a2}'
        | '\u{17a7}'
        | '\u{17ab}'..='\u{17ac}'
        | '\u{17af}')
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
mod tests;
