use unicode_width::UnicodeWidthChar;

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

/// Issue 11: the characters the sanitizer used to let through.
#[test]
fn invisible_and_separator_table() {
    let cases: &[(&str, &str)] = &[
        // Line and paragraph separators: a space (U+2028 desynced the Timeline).
        ("a\u{2028}b\u{2029}c", "a b c"),
        ("nel\u{85}x del\u{7f}x", "nelx delx"),
        // Zero-width characters: look-alike names.
        ("a\u{200b}p\u{200c}i\u{200d}\u{feff}", "api"),
        ("wj\u{2060}\u{2061}\u{2062}\u{2063}\u{2064}x", "wjx"),
        ("mvs\u{180e}x\u{180b}", "mvsx"),
        ("cgj\u{34f}x", "cgjx"),
        ("soft\u{ad}hyphen", "softhyphen"),
        ("khmer\u{17b4}\u{17b5}x", "khmerx"),
        ("fmt\u{206a}\u{206f}x", "fmtx"),
        // Bidi marks and isolates.
        ("lrm\u{200e}rlm\u{200f}alm\u{61c}", "lrmrlmalm"),
        ("iso\u{2066}x\u{2067}\u{2068}\u{2069}", "isox"),
        // Tag characters (plane 14) and variation selectors.
        ("tag\u{e0001}\u{e0041}\u{e007f}s", "tags"),
        ("vs\u{fe0f}\u{fe00}x\u{e0100}\u{e01ef}", "vsx"),
        ("\u{2764}\u{fe0f}", "\u{2764}"),
        // Interlinear annotation, format controls.
        ("ann\u{fff9}a\u{fffa}b\u{fffb}", "annab"),
        ("\u{600}\u{605}\u{6dd}\u{70f}\u{890}\u{8e2}12", "12"),
        ("id\u{13430}\u{1343f}x\u{110bd}", "idx"),
        ("\u{1bca0}\u{1d173}\u{1d17a}m", "m"),
        // Hangul fillers: blank "names".
        ("\u{115f}\u{1160}\u{3164}\u{ffa0}filler", "filler"),
        // Glyphs only the font knows; noncharacters.
        (
            "pua\u{e000}\u{f8ff}\u{f0000}\u{10fffd}",
            "pua\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
        ),
        (
            "non\u{fdd0}\u{fdef}\u{fffe}\u{ffff}\u{1ffff}",
            "non\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
        ),
        // Emoji are one width everywhere: no modifiers, ZWJ or selectors.
        ("👍\u{1f3fd}", "👍"),
        ("👨\u{200d}👩\u{200d}👧", "👨👩👧"),
        // Combining marks: kept on a base, at most MAX_MARKS of them.
        ("e\u{301}te\u{301}", "e\u{301}te\u{301}"),
        ("\u{301}lead", "lead"),
        ("\u{200b}\u{301}x", "x"),
        (
            "z\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}",
            "z\u{301}\u{302}\u{303}\u{304}",
        ),
        ("\u{1100}\u{1161}\u{11a8}", "\u{1100}\u{1161}\u{11a8}"),
        ("नमस्ते", "नमस्ते"),
        // Visible characters stay.
        ("nbsp\u{a0}x\u{3000}y", "nbsp\u{a0}x\u{3000}y"),
        ("obj\u{fffc}", "obj\u{fffc}"),
        // ratatui draws U+FF9E/U+FF9F two cells wide: the spacing forms are.
        ("ｶ\u{ff9e}ﾊ\u{ff9f}", "ｶ\u{309b}ﾊ\u{309c}"),
        // Ligatures ratatui draws in one cell and terminals in two.
        (
            "\u{1780}\u{17d2}\u{1780}\u{17d2}",
            "\u{1780}\u{1780}\u{17d2}",
        ),
        ("\u{1780}\u{17d2}\u{1b}[0m\u{1781}", "\u{1780}\u{1781}"),
        (
            "\u{16d63}\u{16d67}\u{16d67}\u{16d67}\u{16d67}",
            "\u{16d6a}\u{16d68}",
        ),
        ("\u{644}\u{627}", "\u{644}\u{627}"),
        ("日本語サービス", "日本語サービス"),
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
fn every_code_point_is_kept_dropped_or_replaced() {
    for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
        let s = format!("a{c}");
        let out = sanitize(&s);
        let want: String = match class(c) {
            // ESC and the C1 string introducers also eat what follows: here,
            // nothing.
            Class::Keep => s.clone(),
            Class::Drop => "a".into(),
            Class::Space => "a ".into(),
            Class::Replace(r) => format!("a{r}"),
        };
        assert_eq!(out, want, "U+{:04X}", c as u32);
        for o in out.chars() {
            assert_eq!(
                class(o),
                Class::Keep,
                "U+{:04X} gave U+{:04X}",
                c as u32,
                o as u32
            );
            assert!(o.width().is_some(), "U+{:04X}", o as u32);
        }
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
        "ab \u{1b}[]P\\;0123456789m\u{7}\u{9b}\u{9c}\u{9d}\u{202e}é日\t\r\n\u{2028}\u{200b}\u{e0041}"
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
                .any(|c| c.is_control() || class(c) != Class::Keep),
            "{s:?} -> {out:?}"
        );
    }
}

/// The width invariant: every character of the output has a width, the only
/// zero-width ones are marks on a base (at most MAX_MARKS), and `width` is
/// the number of cells ratatui draws for it.
#[test]
fn random_input_keeps_widths_defined_and_equal_to_what_ratatui_draws() {
    use rand::{Rng, SeedableRng};
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let alphabet: Vec<char> = concat!(
        "ab -|",
        "é日本ｶ\u{ff9e}ﾟ",
        "\u{301}\u{302}\u{20dd}\u{94d}क",
        "\u{1b}[m\u{9b}\t\n",
        "\u{2028}\u{2029}\u{200b}\u{200c}\u{200d}\u{feff}\u{2060}\u{180e}\u{34f}",
        "\u{fe0e}\u{fe0f}\u{e0100}\u{e0041}\u{e007f}\u{fff9}\u{fffb}",
        "\u{115f}\u{1160}\u{3164}\u{ffa0}\u{1100}\u{1161}\u{11a8}",
        "\u{202e}\u{2066}\u{200f}\u{ad}\u{600}\u{fffc}\u{e000}\u{fdd0}",
        "👍\u{1f3fd}👨👩❤\u{2764}\u{1f1fa}\u{1f1f8}🚀",
        "لاאל\u{2d4f}\u{2d7f}\u{2d3e}\u{1780}\u{17d2}\u{1781}\u{16d63}\u{16d67}\u{16d69}",
        "\u{a4f8}\u{a4fc}<\u{338}\u{2018}\u{fe01}\u{654}",
    )
    .chars()
    .collect();
    let mut buf = Buffer::empty(Rect::new(0, 0, 400, 1));
    for _ in 0..20_000 {
        let len = rng.random_range(0..48);
        let s: String = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        let out = sanitize(&s);
        let mut marks = None::<usize>;
        for c in out.chars() {
            let w = c.width();
            assert!(w.is_some(), "{s:?} -> {out:?}: U+{:04X}", c as u32);
            if w == Some(0) {
                let m = marks.expect("a zero-width character with no base") + 1;
                assert!(m <= MAX_MARKS, "{s:?} -> {out:?}");
                marks = Some(m);
            } else {
                marks = Some(0);
            }
        }
        buf.reset();
        let (x, _) = buf.set_stringn(0, 0, &out, 400, Style::default());
        assert_eq!(usize::from(x), width(&out), "{s:?} -> {out:?}");
    }
}

#[test]
fn clean_text_is_borrowed() {
    assert!(is_clean("GET /health 200"));
    assert!(!is_clean("a\u{1b}[0m"));
}
