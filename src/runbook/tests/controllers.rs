//! Rollback on every deployment controller and strategy: CodeDeploy stops
//! its own deployment with rollback, EXTERNAL is refused, and ECS-native
//! blue/green (no rolloutState) is still seen to be in progress.

use super::*;

/// bad-deploy with `extra` lines added to prod/api's service block.
fn bad_deploy_with(extra: &str, at_ms: i64) -> Simulator {
    let text = include_str!("../../../assets/scenarios/bad-deploy.toml");
    let anchor = "cluster = \"prod\"\nname = \"api\"\ntask_definition = \"api:42\"";
    assert!(
        text.contains(anchor),
        "bad-deploy.toml changed: fix this test"
    );
    let text = text.replacen(anchor, &format!("{anchor}\n{extra}"), 1);
    let mut sim = Simulator::new(Scenario::parse(&text, "controller.toml").unwrap(), None);
    sim.run_until(at_ms);
    sim
}

fn rollback(sim: Simulator) -> Run {
    run(
        runbook("rollback"),
        sim,
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("incident", "INC-7"),
        ],
        true,
        &Answers::default(),
        true,
    )
}

fn apis(r: &Run) -> Vec<String> {
    kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after")
        .filter_map(|e| e.detail()["call"]["api"].as_str().map(String::from))
        .collect()
}

fn good(r: &Run) -> serde_json::Value {
    kinds(&r.events, "save")
        .into_iter()
        .find(|e| e.detail()["name"] == "good")
        .map(|e| e.detail()["value"].clone())
        .unwrap_or_default()
}

fn ends_on_api_42(r: &Run) {
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
    let snap = r.backend.sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
    assert!(
        svc.task_definition.ends_with("api:42"),
        "{}",
        svc.task_definition
    );
    assert_eq!(svc.running_count, svc.desired_count);
}

#[test]
fn a_codedeploy_service_is_rolled_back_by_stopping_its_deployment() {
    // At 2m prod/api is mid-deployment of the crashing api:43, by CodeDeploy.
    let r = rollback(bad_deploy_with(
        "deployment_controller = \"CODE_DEPLOY\"",
        2 * 60_000,
    ));
    let g = good(&r);
    assert_eq!(g["route"], "codedeploy", "{g}");
    assert_eq!(g["familyRevision"], "api:42", "{g}");
    assert_eq!(g["failingRevision"], "api:43", "{g}");
    let id = g["codeDeploy"]["deploymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("d-"), "{g}");
    assert_eq!(g["codeDeploy"]["application"], "AppECS-prod-api");
    // CodeDeploy's stop, not ECS's StopServiceDeployment or UpdateService.
    assert_eq!(
        apis(&r),
        ["ResolveRevision", "StopCodeDeploy"],
        "{:?}",
        apis(&r)
    );
    let stop = kinds(&r.events, "api_call")
        .into_iter()
        .find(|e| e.detail()["phase"] == "before" && e.detail()["call"]["api"] == "StopCodeDeploy")
        .unwrap();
    let change = stop.detail()["change"].as_str().unwrap().to_string();
    assert!(
        change.contains(&format!("StopDeployment {id}"))
            && change.contains("autoRollbackEnabled=true"),
        "{change}"
    );
    ends_on_api_42(&r);
}

#[test]
fn a_codedeploy_service_with_nothing_in_progress_is_refused_with_what_to_do() {
    // steady: no deployment in progress.
    let text = include_str!("../../../assets/scenarios/steady.toml");
    let anchor = "cluster = \"prod\"\nname = \"api\"\ntask_definition = \"api:42\"";
    let text = text.replacen(
        anchor,
        &format!("{anchor}\ndeployment_controller = \"CODE_DEPLOY\""),
        1,
    );
    let mut sim = Simulator::new(Scenario::parse(&text, "cd.toml").unwrap(), None);
    sim.run_until(60_000);
    let r = rollback(sim);
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let why = r.summary.reason.clone().unwrap_or_default();
    assert!(
        why.contains("deployed by CodeDeploy")
            && why.contains("no CodeDeploy deployment of it is in progress")
            && why.contains("create-deployment"),
        "{why}"
    );
    assert!(
        apis(&r).iter().all(|a| a == "ResolveRevision"),
        "nothing changed"
    );
}

#[test]
fn an_external_controller_is_refused_in_one_line() {
    let r = rollback(bad_deploy_with(
        "deployment_controller = \"EXTERNAL\"",
        2 * 60_000,
    ));
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let why = r.summary.reason.clone().unwrap_or_default();
    assert!(
        why.contains("EXTERNAL deployment controller") && !why.contains('\n'),
        "{why}"
    );
    assert!(apis(&r).is_empty(), "{:?}", apis(&r));
}

#[test]
fn a_blue_green_deployment_in_progress_is_stopped_with_rollback() {
    // Blue/green reports no rolloutState: the service deployments say it is
    // in progress, so the rollback stops it (not an UpdateService beside it).
    let sim = bad_deploy_with("strategy = \"BLUE_GREEN\"", 2 * 60_000);
    let snap = sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
    assert!(
        svc.deployments.iter().all(|d| d.rollout_state.is_none()),
        "as ECS reports it"
    );
    let r = rollback(sim);
    assert_eq!(good(&r)["route"], "stop", "{}", good(&r));
    assert_eq!(
        apis(&r),
        ["ResolveRevision", "StopDeployment"],
        "{:?}",
        apis(&r)
    );
    ends_on_api_42(&r);
    // After the breaker tripped (4m) it follows ECS's own rollback.
    let r = rollback(bad_deploy_with("strategy = \"BLUE_GREEN\"", 4 * 60_000));
    assert_eq!(good(&r)["route"], "follow", "{}", good(&r));
    assert!(
        !apis(&r)
            .iter()
            .any(|a| a == "StopDeployment" || a == "UpdateService")
    );
    ends_on_api_42(&r);
}

#[test]
fn scenario_controllers_and_strategies_are_checked() {
    for (line, field) in [
        (
            "deployment_controller = \"CODEDEPLOY\"",
            "deployment_controller",
        ),
        ("strategy = \"BLUEGREEN\"", "strategy"),
    ] {
        let text = include_str!("../../../assets/scenarios/steady.toml");
        let anchor = "cluster = \"prod\"\nname = \"api\"\ntask_definition = \"api:42\"";
        let text = text.replacen(anchor, &format!("{anchor}\n{line}"), 1);
        let e = Scenario::parse(&text, "bad.toml").unwrap_err().to_string();
        assert!(e.contains(field) && e.contains("is not one of"), "{e}");
    }
}
