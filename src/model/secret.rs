//! Whether an environment variable looks secret, and how to show it when it
//! does. One detector for the review (SEC-02) and for every diff and
//! checkpoint a runbook or the triage shows: a value that looks secret is
//! never printed.

use std::sync::LazyLock;

use regex::Regex;

/// Names AWS's ECS.8 control names outright.
const NAMED: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ECS_ENGINE_AUTH_DATA",
];

static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Values that are secrets whatever their name: AWS access key ids, PEM
/// private keys, credentials inside a URL, well-known token prefixes.
static SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"|[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",
        r"|\b(ghp|gho|ghs|github_pat|glpat|xox[abprs]|sk_live|rk_live)[-_][A-Za-z0-9_-]{10,}",
    ))
    .unwrap_or_else(|e| unreachable!("{e}"))
});

static AWS_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b").unwrap_or_else(|e| unreachable!("{e}"))
});

/// Whether the value holds an AWS access key id under another name than
/// the three ECS.8 names.
pub fn holds_aws_key(name: &str, value: &str) -> bool {
    !NAMED.contains(&name) && AWS_KEY.is_match(value)
}

/// Whether `name=value` looks like a secret kept in plaintext.
pub fn looks_secret(name: &str, value: &str) -> bool {
    NAMED.contains(&name)
        || (!value.is_empty() && (SECRET_NAME.is_match(name) || SECRET_VALUE.is_match(value)))
}

/// What to show for the value: itself, or a mask that keeps only its length
/// class (never a prefix: a key id's first characters name the account).
pub fn shown_value<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if looks_secret(name, value) {
        "•••• (masked)".into()
    } else {
        value.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_that_look_secret() {
        for (n, v) in [
            ("DB_PASSWORD", "hunter2"),
            ("STRIPE_API_KEY", "x"),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("DATABASE_URL", "postgres://app:s3cr3t@db.internal:5432/app"),
            ("CONFIG", "key AKIAIOSFODNN7EXAMPLE here"),
            ("GH", "ghp_abcdefghijklmnop1234"),
            ("K", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
        ] {
            assert!(looks_secret(n, v), "{n}={v}");
            assert_eq!(shown_value(n, v), "•••• (masked)");
        }
        for (n, v) in [
            ("LOG_LEVEL", "info"),
            ("DB_PASSWORD", ""),
            ("DATABASE_URL", "postgres://db.internal:5432/app"),
            ("UPSTREAM", "https://api.example.com/v1"),
            ("REGION", "us-east-1"),
            ("AUTHOR", "ops"),
        ] {
            assert!(!looks_secret(n, v), "{n}={v}");
            assert_eq!(shown_value(n, v), v);
        }
    }
}
