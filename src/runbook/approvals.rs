//! Named approvals of a checkpoint: the console's "approved by" field and an
//! answers file's `approved_by` list. Approvals count people, so a name that
//! appears twice (whatever its case or spacing) counts once — and is refused,
//! since it is most likely a slip that would otherwise pass a two-person rule.

use crate::sanitize::sanitize;

/// The console's approvers field: names separated by commas; blanks dropped.
pub fn parse_field(field: &str) -> Vec<String> {
    field
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What makes two names the same approver: case, spacing and invisible
/// characters (zero-width spaces, joiners, BOM, soft hyphen) are ignored, as
/// are the escape sequences and control characters [`sanitize`] removes.
pub fn identity(name: &str) -> String {
    sanitize(name)
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{00ad}'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The approvers, refused when one is blank or listed twice. `Ok` holds how
/// many distinct people approved.
pub fn check_distinct(names: &[String]) -> Result<usize, String> {
    let mut seen: Vec<(String, &str)> = Vec::with_capacity(names.len());
    for n in names {
        let id = identity(n);
        if id.is_empty() {
            return Err("an approver name is blank: name each approver".into());
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == id) {
            let (a, b) = (sanitize(first), sanitize(n));
            let both = if a == b {
                format!("{a:?}")
            } else {
                format!("{a:?} and {b:?}")
            };
            return Err(format!(
                "approver {both} is listed twice: approvals must come from distinct people"
            ));
        }
        seen.push((id, n));
    }
    Ok(seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_console_field_splits_on_commas() {
        assert_eq!(parse_field(" alice, bob ,, "), v(&["alice", "bob"]));
        assert_eq!(parse_field(""), Vec::<String>::new());
        assert_eq!(parse_field("alice,alice"), v(&["alice", "alice"]));
    }

    #[test]
    fn duplicates_are_refused_whatever_their_case_or_spacing() {
        assert_eq!(check_distinct(&v(&["alice", "bob"])), Ok(2));
        for dup in [
            &["alice", "alice"][..],
            &["alice", "Alice"],
            &["alice", " ALICE "],
            &["Alice Smith", "alice  smith"],
            &["alice", "al\u{200b}ice"],
            &["alice", "\u{1b}[1malice\u{1b}[0m"],
        ] {
            let e = check_distinct(&v(dup)).unwrap_err();
            assert!(e.contains("listed twice"), "{dup:?}: {e}");
            assert!(!e.contains('\u{1b}'), "{e:?}");
        }
        let e = check_distinct(&v(&["alice", "alice"])).unwrap_err();
        assert_eq!(
            e,
            "approver \"alice\" is listed twice: approvals must come from distinct people"
        );
        let e = check_distinct(&v(&["alice", "Alice"])).unwrap_err();
        assert!(e.contains("\"alice\" and \"Alice\""), "{e}");
        let e = check_distinct(&v(&["alice", " "])).unwrap_err();
        assert!(e.contains("blank"), "{e}");
        let e = check_distinct(&v(&["alice", "\u{1b}[2J"])).unwrap_err();
        assert!(e.contains("blank"), "{e}");
    }
}
