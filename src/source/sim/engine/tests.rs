use super::*;

/// The definition `scale_in_order` replaces: ask `most_loaded_task`'s
/// original rule (max of (tasks in the AZ, not running, id) over the
/// tasks not leaving) once per stop, the stopped one leaving.
fn one_pick_at_a_time(e: &Engine, si: usize, n: usize, except: Option<&str>) -> Vec<usize> {
    let tasks = &e.services[si].tasks;
    let mut gone = vec![false; tasks.len()];
    let mut out = Vec::new();
    for _ in 0..n {
        let alive = |i: usize| !gone[i] && !is_leaving(&tasks[i].task);
        let per_az = |az: &Option<String>| {
            (0..tasks.len())
                .filter(|&j| alive(j) && tasks[j].task.availability_zone == *az)
                .count()
        };
        let pick = (0..tasks.len())
            .filter(|&i| alive(i) && Some(tasks[i].task.id.as_str()) != except)
            .max_by_key(|&i| {
                let t = &tasks[i].task;
                (per_az(&t.availability_zone), !t.is_running(), t.id.clone())
            });
        let Some(i) = pick else { break };
        gone[i] = true;
        out.push(i);
    }
    out
}

fn uneven_fleet() -> (Engine, usize) {
    let sc = Scenario::builtin("az-outage").unwrap();
    let mut e = Engine::new(&sc, Some(3));
    let si = e
        .services
        .iter()
        .position(|s| s.svc.key() == "prod/api")
        .unwrap();
    // Uneven AZs, tasks in every state: impair, scale out, release.
    e.impair_az("us-east-1a", None);
    e.set_desired_at(si, 40).unwrap();
    for _ in 0..90 {
        e.tick();
    }
    e.release_az("us-east-1a");
    e.set_desired_at(si, 70).unwrap();
    for _ in 0..25 {
        e.tick();
    }
    (e, si)
}

#[test]
fn scale_in_order_is_one_pick_at_a_time() {
    let (e, si) = uneven_fleet();
    let tasks = &e.services[si].tasks;
    let states: std::collections::BTreeSet<&str> =
        tasks.iter().map(|t| t.task.last_status.as_str()).collect();
    assert!(states.len() >= 3, "a mix of states: {states:?}");
    let alive = tasks.iter().filter(|t| !is_leaving(&t.task)).count();
    for n in [0, 1, 7, alive / 2, alive, alive + 5] {
        assert_eq!(
            e.scale_in_order(si, n, None),
            one_pick_at_a_time(&e, si, n, None),
            "n = {n}"
        );
    }
    let except = tasks
        .iter()
        .find(|t| !is_leaving(&t.task))
        .map(|t| t.task.id.clone());
    assert_eq!(
        e.scale_in_order(si, alive, except.as_deref()),
        one_pick_at_a_time(&e, si, alive, except.as_deref())
    );
}

#[test]
fn az_load_counts_what_the_old_pick_counted() {
    let (mut e, si) = uneven_fleet();
    e.impair_service_az(si, "us-east-1b", None);
    let load = e.az_load(si);
    let s = &e.services[si];
    let want: Vec<(String, usize)> = s
        .svc
        .subnets
        .iter()
        .map(|n| n.availability_zone.clone())
        .filter(|az| az != "us-east-1b")
        .map(|az| {
            let n = s
                .tasks
                .iter()
                .filter(|t| {
                    !is_leaving(&t.task) && t.task.availability_zone.as_deref() == Some(&az)
                })
                .count();
            (az, n)
        })
        .collect();
    assert_eq!(load, want);
    let mut l = vec![("a".to_string(), 2), ("b".into(), 1), ("c".into(), 1)];
    assert_eq!(take_least(&mut l).as_deref(), Some("b"), "first of equals");
    assert_eq!(take_least(&mut l).as_deref(), Some("c"));
    assert_eq!(take_least(&mut l).as_deref(), Some("a"));
    assert_eq!(take_least(&mut []), None);
}
