//! Display width and fitting text into a column.
//!
//! Widths are the sum of the characters' widths (unicode-width, non-CJK):
//! what a terminal advances per code point and, for sanitized text, what
//! ratatui draws (see the module invariant in [`super`]).

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

use super::sanitize;

/// Display width of sanitized text, in terminal cells.
pub fn width(s: &str) -> usize {
    if s.is_ascii() {
        return s.bytes().filter(|b| !b.is_ascii_control()).count();
    }
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Sanitize `s` and cut it to at most `max` cells, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    let clean = sanitize(s);
    if width(&clean) <= max {
        return clean;
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    // Keep what fits in max - 1 cells, then the ellipsis. The marks after a
    // kept character are kept with it; the first character that does not fit
    // ends the text (its marks go with it).
    let mut out = String::with_capacity(max * 4);
    let mut used = 0usize;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// Sanitize `s` into exactly `cols` cells: cut with `…`, padded with spaces
/// on the right.
pub fn fit(s: &str, cols: usize) -> Cow<'_, str> {
    pad(truncate(s, cols), cols, false)
}

/// [`fit`], padded on the left (right-aligned).
pub fn fit_right(s: &str, cols: usize) -> Cow<'_, str> {
    pad(truncate(s, cols), cols, true)
}

fn pad(s: Cow<'_, str>, cols: usize, left: bool) -> Cow<'_, str> {
    let w = width(&s);
    if w >= cols {
        return s;
    }
    let mut out = String::with_capacity(s.len() + cols - w);
    if left {
        out.extend(std::iter::repeat_n(' ', cols - w));
        out.push_str(&s);
    } else {
        out.push_str(&s);
        out.extend(std::iter::repeat_n(' ', cols - w));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width("api"), 3);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("🚀x"), 3);
        assert_eq!(width(""), 0);
    }

    #[test]
    fn fit_pads_and_cuts_by_cells() {
        let cases: &[(&str, usize, &str)] = &[
            ("api", 6, "api   "),
            ("api", 3, "api"),
            ("payments", 6, "payme…"),
            ("日本語サービス", 6, "日本… "),
            ("日本語", 6, "日本語"),
            ("日本語x", 6, "日本… "),
            ("e\u{301}e\u{301}e\u{301}", 2, "e\u{301}…"),
            ("🚀🚀🚀", 5, "🚀🚀…"),
            ("a\u{1b}[31mb", 3, "ab "),
            ("x", 0, ""),
            ("xy", 1, "…"),
            ("", 2, "  "),
        ];
        for (s, cols, want) in cases {
            let got = fit(s, *cols);
            assert_eq!(got, *want, "fit({s:?}, {cols})");
            assert_eq!(width(&got), *cols, "fit({s:?}, {cols}) is {cols} cells");
        }
        assert_eq!(fit_right("7/7/0", 8), "   7/7/0");
        assert_eq!(fit_right("日本語", 7), " 日本語");
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 5), "abcd…");
    }

    #[test]
    fn fit_always_gives_the_width_asked_for() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let alphabet: Vec<char> = "ab 日本🚀\u{301}\u{200d}\u{1b}[m\u{2028}\u{202e}é"
            .chars()
            .collect();
        for _ in 0..5_000 {
            let len = rng.random_range(0..40);
            let s: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let cols = rng.random_range(0..30);
            let got = fit(&s, cols);
            assert_eq!(width(&got), cols, "{s:?} in {cols}: {got:?}");
            assert_eq!(width(&fit_right(&s, cols)), cols, "{s:?} in {cols}");
        }
    }
}
