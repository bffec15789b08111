//! JSON that is safe on a tty.
//!
//! serde_json escapes only `"`, `\` and C0 controls; everything else is
//! written raw, so a hostile name puts U+202E or a C1 CSI (U+009B) on the
//! terminal of whoever runs `ecsdeck status --format json`. These writers
//! escape, as `\uXXXX` (surrogate pairs above the BMP), DEL and every
//! character [`super::sanitize`] would not show as itself ([`super::class`]
//! is not `Keep`). The JSON is the same value: it parses back to exactly the
//! strings that went in.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

use super::{Class, class};

/// `serde_json::to_string_pretty`, hostile code points escaped.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    to_string_with(value, SafeFormatter(PrettyFormatter::new()))
}

/// `serde_json::to_string` (one line), hostile code points escaped.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    to_string_with(value, SafeFormatter(CompactFormatter))
}

fn to_string_with<T: Serialize + ?Sized, F: Formatter>(
    value: &T,
    formatter: F,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser)?;
    // The serializer writes UTF-8 only (str fragments and ASCII escapes).
    String::from_utf8(out).map_err(<serde_json::Error as serde::ser::Error>::custom)
}

/// True when `c` is written as `\uXXXX`.
fn escaped(c: char) -> bool {
    c == '\u{7f}' || (!c.is_ascii() && class(c) != Class::Keep)
}

/// A formatter that escapes hostile code points in strings and delegates
/// everything else (layout, numbers) to the one it wraps.
pub struct SafeFormatter<F>(pub F);

fn write_escaped<W: ?Sized + io::Write>(w: &mut W, c: char) -> io::Result<()> {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        write!(w, "\\u{:04x}", u)?;
    }
    Ok(())
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
                self.0.$name(w $(, $arg)*)
            }
        )*
    };
}

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Fast path: no DEL, no non-ASCII (serde_json escaped C0, `"`, `\`).
        if fragment.bytes().all(|b| b < 0x7f) {
            return self.0.write_string_fragment(w, fragment);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if escaped(c) {
                if start < i {
                    self.0.write_string_fragment(w, &fragment[start..i])?;
                }
                write_escaped(w, c)?;
                start = i + c.len_utf8();
            }
        }
        if start < fragment.len() {
            self.0.write_string_fragment(w, &fragment[start..])?;
        }
        Ok(())
    }

    delegate! {
        write_null();
        write_bool(value: bool);
        write_i8(value: i8);
        write_i16(value: i16);
        write_i32(value: i32);
        write_i64(value: i64);
        write_i128(value: i128);
        write_u8(value: u8);
        write_u16(value: u16);
        write_u32(value: u32);
        write_u64(value: u64);
        write_u128(value: u128);
        write_f32(value: f32);
        write_f64(value: f64);
        write_number_str(value: &str);
        begin_string();
        end_string();
        write_char_escape(char_escape: CharEscape);
        write_byte_array(value: &[u8]);
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
        write_raw_fragment(fragment: &str);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const HOSTILE: &[char] = &[
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
        '\u{9d}',
        '\u{ad}',
        '\u{61c}',
        '\u{200b}',
        '\u{200d}',
        '\u{200e}',
        '\u{2028}',
        '\u{2029}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{2060}',
        '\u{3164}',
        '\u{fe0f}',
        '\u{feff}',
        '\u{fff9}',
        '\u{e000}',
        '\u{e0041}',
        '\u{e007f}',
        '\u{e0100}',
        '\u{10fffd}',
        '\u{fdd0}',
        '\u{ffff}',
    ];

    fn hostile_value() -> Value {
        let all: String = HOSTILE.iter().collect();
        json!({
            "name": format!("pay\u{202e}gnp.exe\u{9b}31m"),
            "sep": "a\u{2028}b\u{2029}c",
            "tag": "x\u{e0041}\u{e007f}y",
            "all": all,
            "ok": "ümlaut ✓ 日本 e\u{301} 🚀 \"q\" \\ \u{7}",
            "n": [1, -2, 3.5, 1e300],
            "nested": { "k\u{202e}ey": [null, true, "\u{1b}[2J"] },
        })
    }

    #[test]
    fn escapes_the_hostile_set_and_round_trips() {
        let v = hostile_value();
        for out in [to_string_pretty(&v).unwrap(), to_string(&v).unwrap()] {
            for c in HOSTILE {
                assert!(!out.contains(*c), "raw {:?} in {out}", c);
            }
            assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out}");
            let back: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(back, v);
            assert!(out.contains("\\u202e") && out.contains("\\u009b"), "{out}");
            assert!(out.contains("\\u2028") && out.contains("\\u2029"), "{out}");
            // A tag character is a surrogate pair.
            assert!(out.contains("\\udb40\\udc41"), "{out}");
            // Kept as they are: text that is fine on a terminal.
            assert!(out.contains("ümlaut ✓ 日本 e\u{301} 🚀"), "{out}");
        }
        assert!(!to_string(&v).unwrap().contains('\n'), "one line");
    }

    #[test]
    fn clean_values_are_byte_identical_to_serde_json() {
        let v = json!({"a": [1, 2.5, {"b": "ü ✓ 日本 \"\\ \n\u{1}"}], "c": {}, "d": []});
        assert_eq!(
            to_string_pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert_eq!(to_string(&v).unwrap(), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn every_code_point_round_trips() {
        // Every scalar value, in chunks, through both writers.
        let all: Vec<char> = (0..=0x10ffffu32).filter_map(char::from_u32).collect();
        for chunk in all.chunks(4096) {
            let s: String = chunk.iter().collect();
            let out = to_string(&s).unwrap();
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
            assert!(
                !out.chars().any(|c| c.is_control() || escaped(c)),
                "raw hostile code point in {:?}…",
                &chunk[0]
            );
        }
    }
}
