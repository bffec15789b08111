//! Alarms a runbook reads: a verify on an alarm that does not exist fails
//! at once, naming it; one that exists is polled as before.

use super::*;

fn verify_alarm(name: &str) -> Runbook {
    let text = format!(
        "+++\nid = \"slo\"\ntitle = \"SLO\"\nversion = 1\nkind = \"operational\"\n\n[params.cluster]\ntype = \"string\"\nrequired = true\n\n[params.service]\ntype = \"string\"\nrequired = true\n+++\n\n# SLO\n\n## Served {{#served}}\n```verify\nsource = \"cloudwatch.alarm\"\nname = \"{name}\"\nselect = \"StateValue\"\nop = \"==\"\nvalue = \"OK\"\nhold = \"1m\"\ninterval = \"15s\"\ntimeout = \"20m\"\n```\n"
    );
    parse(&text, "slo.runbook.md").unwrap()
}

const API: &[(&str, &str)] = &[("cluster", "prod"), ("service", "api")];

#[test]
fn a_verify_on_a_missing_alarm_fails_at_once_naming_it() {
    let sim = sim_at("steady", 60_000);
    let start = sim.now();
    let r = run(
        verify_alarm("prod-api-5xx-typo"),
        sim,
        API,
        false,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed, "{:?}", r.summary);
    let reason = r.summary.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("prod-api-5xx-typo") && reason.contains("not found"),
        "{reason}"
    );
    let end = kinds(&r.events, "step_end")[0].ts;
    assert!(
        end - start < 60_000,
        "failed after {} s, not at the 20 min timeout",
        (end - start) / 1000
    );
    assert_eq!(
        step_states(&r.events),
        vec![("served".into(), "failed".into())]
    );
}

#[test]
fn a_verify_on_an_alarm_that_exists_holds_and_passes() {
    let r = run(
        verify_alarm("prod-api-5xx"),
        sim_at("steady", 60_000),
        API,
        false,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Completed, "{:?}", r.summary);
}

/// While the alarms of the place are not read (or their read failed), a
/// missing alarm may still appear: the condition is false, not fatal.
#[test]
fn a_missing_alarm_is_not_fatal_while_alarms_are_unread() {
    use crate::model::{DataKind, Freshness};
    let rb = verify_alarm("prod-api-5xx-typo");
    let sim = sim_at("steady", 60_000);
    let mut snap = sim.snapshot();
    let Block::Verify(v) = &rb.steps[0].block else {
        panic!("a verify step")
    };
    let dr = crate::calls::ServiceRef {
        cluster: "prod".into(),
        service: "api".into(),
        region: None,
        account: None,
    };
    struct NoVars;
    impl super::super::vars::Scope for NoVars {
        fn lookup(&self, _: &str) -> Option<serde_json::Value> {
            None
        }
    }
    let scope = NoVars;
    let eval = |snap: &crate::model::FleetSnapshot| {
        super::super::cond::evaluate(
            &v.all[0],
            &super::super::cond::EvalCtx {
                snap,
                default_ref: &dr,
                scope: &scope,
                since: 0,
                impairments: &[],
            },
        )
    };
    assert!(eval(&snap).fatal, "the simulator read every alarm");
    let home = snap.home_key(DataKind::Sim);
    snap.freshness.clear();
    assert!(!eval(&snap).fatal, "nothing read yet");
    snap.freshness.insert(
        home.with_kind(DataKind::Cloudwatch),
        Freshness {
            updated_at: Some(1),
            error: Some("AccessDenied: cloudwatch:DescribeAlarms".into()),
        },
    );
    assert!(!eval(&snap).fatal, "the read failed");
    snap.freshness.insert(
        home.with_kind(DataKind::Cloudwatch),
        Freshness {
            updated_at: Some(1),
            error: None,
        },
    );
    let r = eval(&snap);
    assert!(r.fatal && !r.ok, "{r:?}");
    assert!(r.text.contains("cloudwatch:DescribeAlarms"), "{}", r.text);
}

/// An alarm of the name in another region is not the service's: a verify
/// that names no region looks where the service is.
#[test]
fn an_alarm_is_looked_up_where_the_service_is() {
    let snap = sim_at("dr-pilot-light", 60_000).snapshot();
    let items = |cluster: &str| {
        crate::runbook::cond::items(
            &snap,
            "cloudwatch.alarm",
            &crate::calls::ServiceRef::new(cluster, "api", None),
            Some("prod-api-5xx"),
            false,
            0,
        )
    };
    // prod/api in us-east-1 has it; the standby prod-dr/api in us-west-2 has not.
    assert_eq!(items("prod").unwrap().len(), 1);
    let e = items("prod-dr").unwrap_err();
    assert!(e.contains("not found"), "{e}");
}
