//! Suppressions: accepted findings, with a reason and an expiry date.
//!
//! ```toml
//! [[suppress]]
//! id = "REL-07"                 # check id
//! resource = "legacy/*"         # glob on cluster/service, or on the resource ARN
//! reason = "being decommissioned in Q1"
//! expires = "2026-12-31"        # after this day the finding fires again and says so
//! ```

use serde::Deserialize;
use wildmatch::WildMatch;

use super::{Finding, Review};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Suppression {
    pub id: String,
    pub resource: String,
    pub reason: String,
    /// `YYYY-MM-DD`, inclusive.
    pub expires: String,
    #[serde(skip)]
    expires_ms: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppress: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: toml::Spanned<String>,
    resource: String,
    reason: String,
    expires: toml::Spanned<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}:{line}: {message}")]
pub struct SuppressError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// End of the given day (UTC), epoch ms.
fn day_end_ms(day: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(&format!("{}T23:59:59Z", day.trim())).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

pub fn parse(text: &str, file: &str) -> Result<Vec<Suppression>, SuppressError> {
    let f: File = toml::from_str(text).map_err(|e| SuppressError {
        file: file.into(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    f.suppress
        .into_iter()
        .map(|e| {
            if !super::CHECKS.iter().any(|c| c.id == e.id.get_ref()) {
                return Err(SuppressError {
                    file: file.into(),
                    line: line_of(text, e.id.span().start),
                    message: format!("suppress.id: unknown check {:?}", e.id.get_ref()),
                });
            }
            let expires_ms = day_end_ms(e.expires.get_ref()).ok_or_else(|| SuppressError {
                file: file.into(),
                line: line_of(text, e.expires.span().start),
                message: format!(
                    "suppress.expires: {:?} is not a date (YYYY-MM-DD)",
                    e.expires.get_ref()
                ),
            })?;
            Ok(Suppression {
                id: e.id.into_inner(),
                resource: e.resource,
                reason: e.reason,
                expires: e.expires.into_inner(),
                expires_ms,
            })
        })
        .collect()
}

impl Suppression {
    pub fn matches(&self, f: &Finding) -> bool {
        if self.id != f.id {
            return false;
        }
        let glob = WildMatch::new(&self.resource);
        let key = match &f.service {
            Some(s) => format!("{}/{s}", f.cluster),
            None => f.cluster.to_string(),
        };
        glob.matches(&key) || glob.matches(&f.resource)
    }

    pub fn active_at(&self, now_ms: i64) -> bool {
        now_ms <= self.expires_ms
    }
}

/// The active suppression for a finding, if any.
pub fn suppression_for<'a>(
    sups: &'a [Suppression],
    f: &Finding,
    now_ms: i64,
) -> Option<&'a Suppression> {
    sups.iter().find(|s| s.matches(f) && s.active_at(now_ms))
}

/// Move suppressed findings out of `review.findings`; findings whose
/// suppression expired stay and say so in their evidence.
pub fn apply(mut review: Review, sups: &[Suppression], now_ms: i64) -> Review {
    let mut kept = Vec::with_capacity(review.findings.len());
    for mut f in review.findings {
        if let Some(s) = suppression_for(sups, &f, now_ms) {
            review.suppressed.push((f, s.clone()));
            continue;
        }
        if let Some(s) = sups.iter().find(|s| s.matches(&f)) {
            f.evidence
                .push(format!("suppression expired {}: {}", s.expires, s.reason));
        }
        kept.push(f);
    }
    review.findings = kept;
    review
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_and_line() {
        let ok = "[[suppress]]\nid = \"REL-07\"\nresource = \"legacy/*\"\nreason = \"r\"\nexpires = \"2026-12-31\"\n";
        assert_eq!(parse(ok, "s.toml").unwrap().len(), 1);
        let e = parse(&ok.replace("REL-07", "REL-99"), "s.toml").unwrap_err();
        assert_eq!(
            (e.line, e.message.starts_with("suppress.id")),
            (2, true),
            "{e}"
        );
        let e = parse(&ok.replace("2026-12-31", "next year"), "s.toml").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        let e = parse("[[suppress]]\nid = \"REL-07\"\n", "s.toml").unwrap_err();
        assert!(e.to_string().starts_with("s.toml:"), "{e}");
    }
}
