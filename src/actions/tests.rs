//! The registry's contract: unique ops and call kinds, the journal format
//! of every call kind unchanged, the shared field checks.

use super::*;
use crate::actions::fields::check;
use crate::calls::ServiceRef;

fn target() -> Target {
    Target::from_ref(&ServiceRef::new("prod", "api", Some("us-east-1")))
}

#[test]
fn ops_and_call_kinds_are_unique_and_found() {
    let ops = op_names();
    let mut sorted = ops.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ops.len(), "duplicate op in {ops:?}");
    let kinds: Vec<&str> = REGISTRY.iter().filter_map(|a| a.call_kind()).collect();
    let mut k = kinds.clone();
    k.sort_unstable();
    k.dedup();
    assert_eq!(k.len(), kinds.len(), "duplicate call kind in {kinds:?}");
    for a in REGISTRY {
        assert_eq!(by_op(a.op()).map(|x| x.op()), Some(a.op()));
        if let Some(kind) = a.call_kind() {
            assert_eq!(by_call(kind).map(|x| x.op()), Some(a.op()));
        }
    }
    assert!(by_op("ecs.nope").is_none());
}

#[test]
fn which_ops_mutate() {
    let mutating: Vec<&str> = REGISTRY
        .iter()
        .filter(|a| a.mutates())
        .map(|a| a.op())
        .collect();
    assert_eq!(
        mutating,
        [
            "ecs.scale",
            "autoscaling.set_capacity",
            "ecs.update_service",
            "ecs.force_new_deployment",
            "ecs.stop_deployment",
            "codedeploy.stop_deployment",
            "ecs.stop_tasks",
            "route53.shift",
            "rds.promote",
        ]
    );
}

/// The text the closed enum wrote (`#[serde(tag = "api")]`: the tag, the
/// target, then the fields in declaration order), kept byte for byte.
#[test]
fn calls_serialise_as_the_enum_did() {
    let t = r#""target":{"cluster":"prod","service":"api","region":"us-east-1"}"#;
    let cases: Vec<(PlannedCall, String)> = vec![
        (
            PlannedCall::new(target(), &scale::ScaleCall { from: 3, to: 6 }),
            format!(r#"{{"api":"Scale",{t},"from":3,"to":6}}"#),
        ),
        (
            PlannedCall::new(
                target(),
                &stop_tasks::StopTasksCall {
                    az: None,
                    task_ids: vec!["a".into()],
                    reason: "r".into(),
                    impair_ms: Some(5),
                    fis: None,
                },
            ),
            format!(
                r#"{{"api":"StopTasks",{t},"az":null,"task_ids":["a"],"reason":"r","impair_ms":5}}"#
            ),
        ),
        (
            PlannedCall::new(target(), &force_new_deployment::ForceNewDeploymentCall {}),
            format!(r#"{{"api":"ForceNewDeployment",{t}}}"#),
        ),
        (
            sustain_release::release(target(), "us-east-1b".into(), None),
            format!(r#"{{"api":"ReleaseAz",{t},"az":"us-east-1b"}}"#),
        ),
    ];
    for (call, want) in cases {
        let text = serde_json::to_string(&call).unwrap();
        assert_eq!(text, want);
        let back: PlannedCall = serde_json::from_str(&text).unwrap();
        assert_eq!(back, call);
    }
}

/// The object starting at `from` (balanced braces; the fixtures' strings
/// hold none).
fn object_at(line: &str, from: usize) -> &str {
    let mut depth = 0;
    for (i, ch) in line[from..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &line[from..=from + i];
                }
            }
            _ => {}
        }
    }
    &line[from..]
}

/// Every call in the shipped journal fixtures reads back, has its action,
/// and writes back the same bytes (the journal writes through a JSON value,
/// keys sorted).
#[test]
fn fixture_calls_round_trip_byte_for_byte() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/journals");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let mut at = 0;
            while let Some(i) = line[at..].find(r#"{"api":""#) {
                let raw = object_at(line, at + i);
                at += i + raw.len();
                let call: PlannedCall = serde_json::from_str(raw)
                    .unwrap_or_else(|e| panic!("{}: {raw}: {e}", path.display()));
                assert!(by_call(&call.kind).is_some(), "no action for {raw}");
                let back = serde_json::to_value(&call).unwrap().to_string();
                assert_eq!(back, raw, "{}", path.display());
                assert!(!call.describe().is_empty());
                seen += 1;
            }
        }
    }
    assert!(seen >= 30, "only {seen} calls in the fixtures");
}

#[test]
fn typed_args_of_the_wrong_kind_are_none() {
    let c = PlannedCall::new(target(), &scale::ScaleCall { from: 1, to: 1 });
    assert!(c.args::<stop_tasks::StopTasksCall>().is_none());
    assert_eq!(c.args::<scale::ScaleCall>().map(|a| a.to), Some(1));
    assert!(c.is_noop());
    assert!(c.mutates());
    assert_eq!(c.api(), "ecs:UpdateService");
}

/// A kind no action owns (a journal of a newer ecsdeck) still reads, is
/// described plainly and counts as mutating.
#[test]
fn an_unknown_call_kind_is_kept_and_treated_as_mutating() {
    let raw = r#"{"api":"FailoverDbCluster","target":{"cluster":"c","service":"s"},"db":"x"}"#;
    let c: PlannedCall = serde_json::from_str(raw).unwrap();
    assert_eq!(c.kind, "FailoverDbCluster");
    assert!(c.mutates());
    assert_eq!(c.describe(), "FailoverDbCluster c/s");
    assert_eq!(serde_json::to_string(&c).unwrap(), raw);
}

fn fields(toml_text: &str) -> Fields {
    Fields(toml::from_str(toml_text).unwrap())
}

#[test]
fn field_checks_name_the_key() {
    let scale = by_op("ecs.scale").unwrap();
    let e = check(scale, &fields("desred = 3"), false).unwrap_err();
    assert_eq!(e.key, "desred");
    assert!(
        e.message.contains("unknown field `desred` for `ecs.scale`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("`desired`"), "{}", e.message);
    let e = check(scale, &fields(""), false).unwrap_err();
    assert!(
        e.at_op && e.message == "`ecs.scale` needs `desired`",
        "{e:?}"
    );
    let e = check(scale, &fields("desired = -1"), false).unwrap_err();
    assert!(e.message.contains("negative"), "{}", e.message);
    assert!(check(scale, &fields("desired = \"${param.n}\""), false).is_ok());
    let stop = by_op("ecs.stop_tasks").unwrap();
    let e = check(stop, &fields("az = 3"), false).unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.message.contains("expected a string")),
        ("az", true)
    );
    let e = check(stop, &fields("select = \"all\"\nsustain = \"soon\""), false).unwrap_err();
    assert_eq!(e.key, "sustain");
    let snap = by_op("snapshot").unwrap();
    assert!(check(snap, &fields(""), false).is_err());
    assert!(check(snap, &fields(""), true).is_ok());
}
