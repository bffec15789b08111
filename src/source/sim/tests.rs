//! The simulator's rules, on a manual clock.

use super::scenario::Scenario;
use super::*;
use crate::model::{AlarmState, DeploymentStatus, RolloutState, Service};

const ONE: &str = r#"[scenario]
name = "unit"
seed = 7

[[clusters]]
name = "prod"

[[clusters]]
name = "other"

[[task_definitions]]
family = "api"
revision = 1
cpu = "256"
memory = "512"
[[task_definitions.containers]]
name = "api"
image = "api:1"
port = 8080
health_check = true
log_group = "/ecs/api"

[[task_definitions]]
family = "api"
revision = 2
cpu = "256"
memory = "512"
behaviour = "BEHAVIOUR"
[[task_definitions.containers]]
name = "api"
image = "api:2"
port = 8080
health_check = true
log_group = "/ecs/api"

[[services]]
cluster = "prod"
name = "api"
task_definition = "api:1"
desired = DESIRED
target_group = "api"
min_healthy_percent = MIN
max_percent = MAX
EXTRA
"#;

fn scenario(behaviour: &str, desired: i32, min: i32, max: i32, extra: &str) -> Scenario {
    let text = ONE
        .replace("BEHAVIOUR", behaviour)
        .replace("DESIRED", &desired.to_string())
        .replace("MIN", &min.to_string())
        .replace("MAX", &max.to_string())
        .replace("EXTRA", extra);
    Scenario::parse(&text, "unit.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn api(sim: &Simulator) -> Service {
    sim.snapshot()
        .service_in("prod/api", None)
        .cloned()
        .expect("prod/api")
}

#[test]
fn circuit_breaker_trips_at_the_threshold_and_rolls_back() {
    // desired 8 → threshold max(3, ceil(8/2)) = 4.
    assert_eq!(breaker_threshold(8), 4);
    assert_eq!(breaker_threshold(2), 3);
    assert_eq!(breaker_threshold(1000), 200);
    let sc = scenario(
        "crashes",
        8,
        100,
        200,
        "circuit_breaker = { enable = true, rollback = true }",
    );
    let mut sim = Simulator::new(sc, None);
    let failed_id = sim.deploy(&sim.id_of("prod/api"), "api:2").unwrap();
    let mut tripped_at = None;
    for t in 1..=900 {
        sim.run_until(t * 1000);
        let s = api(&sim);
        let d = s.deployments.iter().find(|d| d.id == failed_id);
        if let Some(d) = d {
            if d.rollout_state == Some(RolloutState::Failed) {
                assert_eq!(d.failed_tasks, 4, "trips exactly at the threshold");
                assert_ne!(
                    d.status,
                    DeploymentStatus::Primary,
                    "a rollback deployment took over"
                );
                let primary = s.primary_deployment().unwrap();
                assert!(
                    primary.task_definition.ends_with("api:1"),
                    "rolls back to the last completed revision"
                );
                tripped_at.get_or_insert(t);
            } else {
                assert!(d.failed_tasks < 4, "not tripped before the threshold");
            }
        }
        if tripped_at.is_some()
            && s.deployments.len() == 1
            && s.deployments[0].rollout_state == Some(RolloutState::Completed)
        {
            assert!(s.deployments[0].task_definition.ends_with("api:1"));
            assert_eq!(s.running_count, 8);
            assert!(
                s.events
                    .iter()
                    .any(|e| e.message.contains("rolling back to deployment"))
            );
            return;
        }
    }
    panic!("the rollback never completed (tripped at {tripped_at:?})");
}

#[test]
fn without_a_breaker_a_failing_deployment_keeps_trying() {
    let sc = scenario("fails_to_start", 4, 50, 200, "");
    let mut sim = Simulator::new(sc, None);
    sim.deploy(&sim.id_of("prod/api"), "api:2").unwrap();
    sim.run_until(30 * 60_000);
    let s = api(&sim);
    let p = s.primary_deployment().unwrap();
    assert_eq!(p.rollout_state, Some(RolloutState::InProgress));
    assert!(
        p.failed_tasks > 10,
        "kept launching: {} failures",
        p.failed_tasks
    );
    let stopped = s
        .tasks
        .iter()
        .filter(|t| t.stop_code.as_deref() == Some("TaskFailedToStart"))
        .count();
    assert!(stopped > 0);
    assert!(s.tasks.iter().any(|t| {
        t.stopped_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("CannotPullContainerError"))
    }));
    // minimumHealthyPercent 50: two of the old tasks keep serving.
    assert!(s.running_count >= 2, "running {}", s.running_count);
}

#[test]
fn rolling_update_respects_min_and_max_percent() {
    for (min, max) in [(100, 200), (50, 200), (50, 100), (0, 100), (100, 150)] {
        let desired = 6;
        let sc = scenario("healthy", desired, min, max, "");
        let mut sim = Simulator::new(sc, None);
        sim.deploy(&sim.id_of("prod/api"), "api:2").unwrap();
        let max_tasks = (desired * max / 100) as usize;
        let min_healthy = ((desired * min) as usize).div_ceil(100);
        let mut completed = false;
        for t in 1..=1200 {
            sim.run_until(t * 1000);
            let s = api(&sim);
            // Tasks that hold capacity: not yet stopping.
            let active = s
                .tasks
                .iter()
                .filter(|t| {
                    !matches!(
                        t.last_status.as_str(),
                        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED"
                    )
                })
                .count();
            assert!(
                active <= max_tasks,
                "{min}/{max}: {active} tasks > {max_tasks} at {t}s"
            );
            let healthy = s
                .tasks
                .iter()
                .filter(|t| t.is_running() && t.health_status == "HEALTHY")
                .count();
            assert!(
                healthy >= min_healthy,
                "{min}/{max}: {healthy} healthy < {min_healthy} at {t}s"
            );
            if s.deployments.len() == 1
                && s.deployments[0].rollout_state == Some(RolloutState::Completed)
            {
                assert!(
                    s.running_tasks()
                        .all(|t| t.task_definition.ends_with("api:2"))
                );
                completed = true;
                break;
            }
        }
        assert!(
            completed,
            "{min}/{max}: deployment did not complete in 20 min"
        );
    }
}

#[test]
fn target_tracking_scales_out_within_max_and_cooldowns() {
    let extra = r#"base_rps = 100
cpu_per_rps = 1.0
autoscaling = { min = 2, max = 7, metric = "cpu", target = 50, scale_out_cooldown = 300 }

[load]
curve = [["0s", 1.0], ["2m", 6.0]]"#;
    let mut sim = Simulator::new(scenario("healthy", 2, 100, 200, extra), None);
    sim.run_until(60 * 60_000);
    let snap = sim.snapshot();
    let acts: Vec<_> = snap
        .scaling_activities
        .iter()
        .filter(|a| a.resource_id == "service/prod/api")
        .collect();
    assert!(!acts.is_empty(), "scaled out");
    assert_eq!(
        snap.service_in("prod/api", None).unwrap().desired_count,
        7,
        "stops at max"
    );
    assert!(
        acts.iter()
            .all(|a| a.description.starts_with("Setting desired count to ")
                && a.status_code == "Successful")
    );
    assert!(
        acts[0]
            .cause
            .contains("TargetTracking-service/prod/api-AlarmHigh")
    );
    // Newest first; consecutive scale-outs at least the cooldown apart.
    for w in acts.windows(2) {
        assert!(
            w[0].start_time - w[1].start_time >= 300_000,
            "cooldown honoured"
        );
    }
}

#[test]
fn scale_in_after_the_spike() {
    let mut sim = Simulator::new(Scenario::builtin("scale-out").unwrap(), None);
    sim.run_until(25 * 60_000);
    let peak = api(&sim).desired_count;
    assert!(peak > 6, "scaled out during the spike: {peak}");
    sim.run_until(70 * 60_000);
    let after = api(&sim).desired_count;
    assert!(after < peak, "scaled back in: {after} (peak {peak})");
    assert!(after >= 6, "not below min: {after}");
}

#[test]
fn alarms_need_m_of_n_datapoints() {
    // RunningTaskCount < 3 for 2 of 3 minutes: stopping tasks briefly is not enough.
    let extra = r#"
[[alarms]]
name = "few-tasks"
service = "prod/api"
metric = "RunningTaskCount"
threshold = 3
comparison = "LessThanThreshold"
evaluation_periods = 3
datapoints_to_alarm = 2"#;
    let mut sim = Simulator::new(scenario("healthy", 3, 100, 200, extra), None);
    let state = |sim: &Simulator| sim.snapshot().alarms[0].state;
    // The back-filled hour of metrics sets the starting state, with no history.
    assert_eq!(state(&sim), AlarmState::Ok);
    assert!(sim.snapshot().alarms[0].history.is_empty());
    sim.run_until(60_000);
    assert_eq!(state(&sim), AlarmState::Ok);
    // Impair every AZ: nothing can run; two low datapoints are needed.
    for az in ["us-east-1a", "us-east-1b", "us-east-1c"] {
        sim.impair_az(az, None);
    }
    sim.run_until(120_000);
    assert_eq!(
        state(&sim),
        AlarmState::Ok,
        "one breaching datapoint of 2 needed"
    );
    sim.run_until(180_000);
    assert_eq!(state(&sim), AlarmState::Alarm);
    let a = &sim.snapshot().alarms[0];
    assert_eq!(a.history[0].summary, "Alarm updated from OK to ALARM");
    assert!(
        a.history[0]
            .reason
            .starts_with("Threshold Crossed: 2 out of the last 3 datapoints"),
        "{}",
        a.history[0].reason
    );
}

#[test]
fn az_impairment_moves_tasks_and_placement_avoids_the_az() {
    let mut sim = Simulator::new(Scenario::builtin("az-outage").unwrap(), None);
    sim.run_until(3 * 60_000 + 5_000);
    let s = api(&sim);
    let stopped: Vec<_> = s
        .tasks
        .iter()
        .filter(|t| t.stop_code.as_deref() == Some("TerminationNotice"))
        .collect();
    assert!(!stopped.is_empty());
    assert!(
        stopped
            .iter()
            .all(|t| t.availability_zone.as_deref() == Some("us-east-1a"))
    );
    assert!(
        stopped[0]
            .stopped_reason
            .as_deref()
            .unwrap()
            .contains("us-east-1a")
    );
    sim.run_until(8 * 60_000);
    let s = api(&sim);
    assert_eq!(s.running_count, 6, "replacements landed elsewhere");
    assert!(
        s.running_tasks()
            .all(|t| t.availability_zone.as_deref() != Some("us-east-1a"))
    );
    let snap = sim.snapshot();
    let tg = snap.target_groups_for(&s).next().unwrap();
    assert!(
        tg.targets
            .iter()
            .all(|t| t.availability_zone.as_deref() != Some("us-east-1a")
                || t.state == crate::model::TargetState::Draining)
    );
    // After release (13m), rebalancing brings tasks back to 1a.
    sim.run_until(20 * 60_000);
    let s = api(&sim);
    assert!(
        s.running_tasks()
            .any(|t| t.availability_zone.as_deref() == Some("us-east-1a"))
    );
    assert!(
        crate::model::AzSpread::of(&s).skew() <= 1,
        "{}",
        crate::model::AzSpread::of(&s).compact()
    );
}

#[test]
fn same_seed_same_fleet_other_seed_other_fleet() {
    let run = |seed: Option<u64>| {
        let mut sim = Simulator::new(Scenario::builtin("bad-deploy").unwrap(), seed);
        sim.run_until(6 * 60_000);
        let logs = sim.take_logs();
        (
            serde_json::to_string(&sim.snapshot()).unwrap(),
            logs.len(),
            logs.last().map(|l| l.message.clone()),
        )
    };
    assert_eq!(run(None), run(None));
    assert_ne!(run(None).0, run(Some(99)).0);
    // Chunking time differently gives the same result.
    let mut a = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    let mut b = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    a.run_until(90_000);
    for _ in 0..180 {
        b.step(500);
    }
    assert_eq!(
        serde_json::to_string(&a.snapshot()).unwrap(),
        serde_json::to_string(&b.snapshot()).unwrap()
    );
}

#[test]
fn every_builtin_runs_an_hour() {
    for name in Scenario::builtin_names() {
        let mut sim = Simulator::new(Scenario::builtin(name).unwrap(), None);
        sim.run_until(3_600_000);
        let snap = sim.snapshot();
        assert!(snap.clusters.len() >= 2, "{name}");
        for s in &snap.services {
            assert!(s.events.len() <= 100, "{name}: events bounded");
            let m = snap.metrics_for(s).unwrap();
            assert_eq!(m.cpu.values.len(), 60, "{name}: an hour of 1-minute CPU");
        }
        let logs = sim.take_logs();
        assert!(!logs.is_empty(), "{name}: logs flow");
        assert!(
            logs.windows(2).all(|w| w[0].id < w[1].id),
            "{name}: ids are monotonic"
        );
    }
}

#[test]
fn logs_include_hostile_lines() {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(15 * 60_000);
    let logs = sim.take_logs();
    assert!(logs.iter().any(|l| l.message.contains("\u{1b}[")), "CSI");
    assert!(
        logs.iter().any(|l| l.message.contains("\u{1b}]52;")),
        "OSC 52"
    );
    assert!(logs.iter().any(|l| l.message.contains('\u{7}')), "BEL");
    assert!(logs.iter().any(|l| l.message.len() > 10_000), "10 kB line");
    assert!(
        logs.iter().any(|l| l.message.contains('\u{fffd}')),
        "invalid UTF-8, lossily decoded"
    );
}

#[test]
fn control_api_changes_the_fleet() {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    assert_eq!(sim.set_desired_count(&sim.id_of("prod/worker"), 0), Ok(3));
    sim.run_until(2 * 60_000);
    assert_eq!(
        sim.snapshot()
            .service_in("prod/worker", None)
            .unwrap()
            .running_count,
        0
    );
    assert_eq!(
        sim.set_desired_count(&sim.id_of("prod/worker"), 2),
        Ok(0),
        "scales up from zero"
    );
    sim.run_until(5 * 60_000);
    assert_eq!(
        sim.snapshot()
            .service_in("prod/worker", None)
            .unwrap()
            .running_count,
        2
    );
    assert_eq!(
        sim.set_scalable_target(&sim.id_of("prod/api").scalable_target_id(), 8, 30),
        Ok((6, 24))
    );
    sim.run_until(8 * 60_000);
    assert_eq!(
        api(&sim).running_count,
        8,
        "the new floor raised the desired count"
    );
    let task = api(&sim).running_tasks().next().unwrap().id.clone();
    sim.stop_task(&sim.id_of("prod/api"), &task, "GameDay")
        .unwrap();
    assert!(sim.stop_task(&sim.id_of("prod/api"), "nope", "x").is_err());
    // The right name in another region is another service: there is none.
    let id = sim.id_of("prod/api");
    let elsewhere = crate::model::ServiceId::new(&id.account, "eu-west-1", "prod", "api");
    assert!(sim.set_desired_count(&elsewhere, 1).is_err());
    assert!(sim.deploy(&elsewhere, "api:1").is_err());
    assert!(sim.deploy(&sim.id_of("prod/api"), "api:999").is_err());
}

#[test]
fn unchanged_services_keep_their_arc() {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(300_000);
    let a = sim.snapshot();
    let b = sim.snapshot();
    assert!(
        a.services
            .iter()
            .zip(&b.services)
            .all(|(x, y)| std::sync::Arc::ptr_eq(x, y))
    );
    sim.set_desired_count(&sim.id_of("prod/worker"), 4).unwrap();
    let c = sim.snapshot();
    let changed: Vec<String> = b
        .services
        .iter()
        .zip(&c.services)
        .filter(|(x, y)| !std::sync::Arc::ptr_eq(x, y))
        .map(|(_, y)| y.key())
        .collect();
    assert_eq!(changed, ["prod/worker"]);
    // The AWS source does the same between refreshes.
    let mut fresh = c.clone();
    for s in &mut fresh.services {
        *s = std::sync::Arc::new((**s).clone());
    }
    std::sync::Arc::make_mut(&mut fresh.services[0]).desired_count += 1;
    fresh.share_unchanged(&c);
    let reused = fresh
        .services
        .iter()
        .zip(&c.services)
        .filter(|(x, y)| std::sync::Arc::ptr_eq(x, y))
        .count();
    assert_eq!(reused, c.services.len() - 1);
}

/// A service at ECS's quota of 5,000 tasks starts warm, scales in to 0 and
/// out again. Placement and scale-in used to cost a pass over the tasks per
/// task (scale-in: per task per task), which hung at this size.
#[test]
fn a_service_at_the_task_quota_scales_in_and_out() {
    let sc = scenario("healthy", scenario::MAX_TASKS_PER_SERVICE, 100, 200, "");
    let mut sim = Simulator::new(sc, None);
    let s = api(&sim);
    assert_eq!(s.running_count, 5_000);
    let mut per_az = std::collections::BTreeMap::<String, usize>::new();
    for t in s.running_tasks() {
        *per_az
            .entry(t.availability_zone.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(per_az.len(), 3, "{per_az:?}");
    assert!(
        per_az.values().all(|n| (1666..=1667).contains(n)),
        "balanced: {per_az:?}"
    );
    assert_eq!(sim.set_desired_count(&sim.id_of("prod/api"), 0), Ok(5_000));
    sim.run_until(60_000);
    let s = api(&sim);
    assert_eq!((s.running_count, s.pending_count), (0, 0));
    assert!(
        sim.set_desired_count(&sim.id_of("prod/api"), 5_001)
            .is_err(),
        "over the quota"
    );
    sim.set_desired_count(&sim.id_of("prod/api"), 5_000)
        .unwrap();
    sim.run_until(3 * 60_000);
    assert_eq!(api(&sim).running_count, 5_000);
}
