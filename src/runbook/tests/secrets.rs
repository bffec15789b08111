//! A value that looks secret (the SEC-02 detector) never reaches a diff or a
//! checkpoint: the rollback's review shows the names, masked.

use super::*;
use crate::runbook::engine::CheckpointAsk;

/// bad-deploy with secrets kept in plaintext environment on both revisions.
fn leaky_sim(at_ms: i64) -> Simulator {
    let text = include_str!("../../../assets/scenarios/bad-deploy.toml")
        .replacen(
            r#"environment = { LOG_LEVEL = "info", PORT = "8080" }"#,
            r#"environment = { LOG_LEVEL = "info", PORT = "8080", DATABASE_URL = "postgres://app:oldpw-1@db:5432/app", STRIPE_API_KEY = "sk_live_old000000000" }"#,
            1,
        )
        .replacen(
            r#"environment = { LOG_LEVEL = "info", PORT = "8080", FEATURE_NEW_CHECKOUT = "true" }"#,
            r#"environment = { LOG_LEVEL = "debug", PORT = "8080", FEATURE_NEW_CHECKOUT = "true", DATABASE_URL = "postgres://app:newpw-2@db:5432/app", SESSION_SECRET = "s3ss10n-s3cr3t" }"#,
            1,
        );
    assert!(text.contains("newpw-2") && text.contains("oldpw-1"));
    let sc = Scenario::parse(&text, "leaky.toml").unwrap();
    let mut sim = Simulator::new(sc, None);
    sim.run_until(at_ms);
    sim
}

/// The rollback's first checkpoint.
fn first_checkpoint(sim: Simulator) -> CheckpointAsk {
    let mut r = runner(
        runbook("rollback"),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("incident", "INC-1"),
        ],
    );
    drive(&mut r, &mut SimDriver::new(sim), &|_| {}).expect_err("a checkpoint")
}

#[test]
fn the_rollback_review_masks_secret_values_and_shows_the_rest() {
    // Before the breaker trips: the route is "stop", which reviews first.
    let ask = first_checkpoint(leaky_sim(2 * 60_000));
    assert_eq!(ask.step, "review");
    let diff = ask.diff.join("\n");
    for leaked in ["oldpw-1", "newpw-2", "sk_live_old", "s3ss10n"] {
        assert!(!diff.contains(leaked), "{leaked} shown in:\n{diff}");
    }
    assert!(diff.contains("api:43 → api:42"), "{diff}");
    assert!(
        diff.contains("env ~ DATABASE_URL (value changed, masked)"),
        "{diff}"
    );
    assert!(
        diff.contains("env - SESSION_SECRET=•••• (masked)"),
        "{diff}"
    );
    assert!(
        diff.contains("env + STRIPE_API_KEY=•••• (masked)"),
        "{diff}"
    );
    // What is not secret still shows, values and all.
    assert!(diff.contains("env ~ LOG_LEVEL: debug → info"), "{diff}");
    assert!(diff.contains("env - FEATURE_NEW_CHECKOUT=true"), "{diff}");
    assert!(diff.contains("api image: "), "{diff}");
    assert!(!ask.prompt.contains("pw-"), "{}", ask.prompt);
}
