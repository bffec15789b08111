//! Twins: the same cluster/service in two regions and two accounts (the
//! `twins` scenario). A runbook acts on the one it is pointed at, never on
//! the first of equal names.

use super::*;

const SCALE_ANSWERS: &str = "arm_phrase = \"api\"\n[steps.approve]\nchoice = \"continue\"\nnote = \"event\"\n[steps.raise-floor]\nconfirm = true\n[steps.scale]\nconfirm = true\n[steps.confirm]\nchoice = \"goto:restore\"\nnote = \"done\"\n[steps.restore]\nconfirm = true\n[steps.restore-desired]\nconfirm = true\n";

fn scale_out(d: &Path, extra: &[&str]) -> Output {
    let answers = d.join("answers.toml");
    std::fs::write(&answers, SCALE_ANSWERS).unwrap();
    let a = answers.to_str().unwrap();
    let mut args = vec![
        "--demo",
        "--scenario",
        "twins",
        "--write",
        "runbook",
        "run",
        "scale-out",
        "--at",
        "1m",
        "--format",
        "json",
        "--answers",
        a,
        "--param",
        "cluster=prod",
        "--param",
        "service=api",
        "--param",
        "target=4",
    ];
    for e in extra {
        args.push("--param");
        args.push(e);
    }
    ecsdeck(d, &args)
}

#[test]
fn an_ambiguous_service_is_refused_naming_every_place() {
    let d = tempfile::tempdir().unwrap();
    let out = scale_out(d.path(), &[]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("prod/api is in 3 places"), "{all}");
    for place in [
        "111122223333 us-east-1",
        "111122223333 us-west-2",
        "444455556666 us-east-1",
    ] {
        assert!(all.contains(place), "{place}: {all}");
    }
    assert!(
        !all.contains("\"api\":\"Scale\""),
        "nothing was sent: {all}"
    );
}

#[test]
fn a_run_pointed_at_one_twin_acts_on_it_alone() {
    let d = tempfile::tempdir().unwrap();
    let out = scale_out(d.path(), &["region=us-west-2", "account=111122223333"]);
    let v = json(&out);
    assert_eq!(
        v["outcome"],
        "completed",
        "{v}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = std::fs::read_to_string(v["journal"].as_str().unwrap()).unwrap();
    let mut scales = 0;
    for line in journal.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(call) = e.pointer("/detail/call") else {
            continue;
        };
        assert_eq!(call["target"]["region"], "us-west-2", "{line}");
        assert_eq!(call["target"]["account"], "111122223333", "{line}");
        if call["api"] == "Scale" && e["detail"]["phase"] == "before" {
            // us-west-2's api runs 1 task (its us-east-1 twin 6).
            let (from, to) = if scales == 0 { (1, 4) } else { (4, 1) };
            assert_eq!(call["from"], from, "{line}");
            assert_eq!(call["to"], to, "{line}");
            scales += 1;
        }
    }
    // Out, then back: with no scalable target the skipped floor restore
    // must still lead to the desired-count restore.
    assert_eq!(scales, 2, "scaled out and back: {journal}");
}
