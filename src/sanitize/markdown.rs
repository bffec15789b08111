//! Untrusted text in a Markdown document.
//!
//! [`super::sanitize`] makes text safe for the terminal; a Markdown report
//! also has a structure to keep: a hostile name must not end a table cell,
//! close a code span, start a heading, quote or list item, become a link,
//! an image, an HTML tag, an entity (`&#x202E;` renders as U+202E), emphasis,
//! strikethrough or math. Line breaks are already gone (the sanitizer removes
//! C0/C1 controls and turns U+2028/U+2029 into spaces), so no line can be
//! forged; what is left is escaped with backslashes (CommonMark: any ASCII
//! punctuation may be) or, in code, fenced so that it can't close the span.

/// Inline text (also a table cell): sanitized, Markdown syntax escaped.
pub fn text(s: &str) -> String {
    let clean = super::sanitize(s);
    let chars: Vec<char> = clean.chars().collect();
    let mut out = String::with_capacity(clean.len() + 8);
    // Leading digits, for "1." / "1)" (an ordered list at a line start).
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '$' | '&' | '!' => true,
            // `_` between two letters or digits can neither open nor close
            // emphasis: `legacy_monolith` stays as it is.
            '_' => {
                let alnum = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                !(alnum(i.checked_sub(1)) && alnum(Some(i + 1)))
            }
            // Block markers, should the text ever start a line.
            '-' | '+' | '=' => i == 0,
            '.' | ')' => i > 0 && i == digits,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An inline code span holding `s` (sanitized) literally: fenced by one
/// backtick more than the longest run inside, padded when it starts or ends
/// with a backtick or a space (one space each side is stripped on render).
pub fn code(s: &str) -> String {
    let clean = super::sanitize(s);
    let mut longest = 0usize;
    let mut run = 0usize;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    if clean.is_empty() {
        return "` `".into();
    }
    let fence = "`".repeat(longest + 1);
    let pad = clean.starts_with(['`', ' ']) || clean.ends_with(['`', ' ']);
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{clean}{sp}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_would_change_the_document() {
        let cases: &[(&str, &str)] = &[
            ("api", "api"),
            ("legacy_monolith", "legacy_monolith"),
            ("_private_", "\\_private\\_"),
            ("a|b", "a\\|b"),
            ("**ok**", "\\*\\*ok\\*\\*"),
            ("[healthy](https://x)", "\\[healthy\\](https://x)"),
            ("![x](https://t/p.gif)", "\\!\\[x\\](https://t/p.gif)"),
            ("<img src=x>", "\\<img src=x\\>"),
            ("&#x202E;", "\\&\\#x202E;"),
            ("# forged heading", "\\# forged heading"),
            ("> quote", "\\> quote"),
            ("- item", "\\- item"),
            ("1. item", "1\\. item"),
            ("10) item", "10\\) item"),
            ("v1.2-3", "v1.2-3"),
            ("~~gone~~ $x$", "\\~\\~gone\\~\\~ \\$x\\$"),
            ("`code`", "\\`code\\`"),
            ("back\\slash", "back\\\\slash"),
            ("line\nbreak\u{2028}sep", "linebreak sep"),
            ("\u{1b}[31mred\u{202e}", "red"),
            ("日本_語", "日本_語"),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), *want, "text({input:?})");
        }
    }

    #[test]
    fn code_spans_cannot_be_closed_from_inside() {
        let cases: &[(&str, &str)] = &[
            ("aws ecs update-service", "`aws ecs update-service`"),
            ("a`b", "``a`b``"),
            ("a``b`", "``` a``b` ```"),
            ("`x", "`` `x ``"),
            (" x ", "`  x  `"),
            ("", "` `"),
            ("x\u{1b}]0;t\u{7}\ny", "`xy`"),
            ("<b>|&amp;", "`<b>|&amp;`"),
        ];
        for (input, want) in cases {
            assert_eq!(code(input), *want, "code({input:?})");
        }
    }

    #[test]
    fn parses_back_to_the_same_text() {
        // What a Markdown reader shows is the sanitized text, in one
        // paragraph: nothing became a link, a heading, a list or HTML.
        use pulldown_cmark::{Event, Parser, Tag, TagEnd};
        let hostile = [
            "# h",
            "> q",
            "- l",
            "1. l",
            "[x](http://e)",
            "![i](http://e/i.png)",
            "<script>x</script>",
            "&#x202E;&lt;",
            "**b** _i_ ~~s~~",
            "a|b|c",
            "`a``b`",
            "x\\",
            "---",
            "===",
            "$x$",
        ];
        // Smart punctuation would turn `---` into a dash: not structure.
        let opts =
            pulldown_cmark::Options::all() - pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION;
        for h in hostile {
            let doc = format!("- Evidence: {}\n- Fix: {}\n", text(h), code(h));
            let mut texts = Vec::new();
            for ev in Parser::new_ext(&doc, opts) {
                match ev {
                    Event::Text(t) => texts.push(t.to_string()),
                    Event::Code(t) => texts.push(format!("<code>{t}</code>")),
                    Event::Start(Tag::List(_) | Tag::Item | Tag::Paragraph)
                    | Event::End(TagEnd::List(_) | TagEnd::Item | TagEnd::Paragraph) => {}
                    other => panic!("{h:?} made {other:?} in {doc:?}"),
                }
            }
            let joined = texts.concat();
            assert_eq!(
                joined,
                format!("Evidence: {h}Fix: <code>{h}</code>"),
                "{doc:?}"
            );
        }
    }
}
