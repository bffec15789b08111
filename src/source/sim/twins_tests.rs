//! Twins in the simulator: the same cluster/service in two regions and two
//! accounts (the `twins` scenario). Scenario alarms and events name the one
//! they mean; left unnamed among twins they are refused, naming every place.

use super::Simulator;
use super::scenario::Scenario;
use crate::model::ServiceId;

const TWINS: &str = include_str!("../../../assets/scenarios/twins.toml");
const EAST: &str = "111122223333";
const OTHER: &str = "444455556666";

fn with(extra: &str) -> Result<Scenario, String> {
    Scenario::parse(&format!("{TWINS}\n{extra}"), "twins.toml").map_err(|e| e.to_string())
}

fn desired(sim: &Simulator, account: &str, region: &str) -> i32 {
    let id = ServiceId::new(account, region, "prod", "api");
    sim.snapshot()
        .services
        .iter()
        .find(|s| s.id() == id)
        .map(|s| s.desired_count)
        .unwrap_or_else(|| panic!("no {id:?}"))
}

#[test]
fn an_event_changes_the_twin_it_names_and_no_other() {
    let sc = with(
        "[[events]]\nat = \"30s\"\naction = \"set_desired\"\nservice = \"prod/api\"\nregion = \"us-west-2\"\ncount = 2\n",
    )
    .unwrap();
    let mut sim = Simulator::new(sc, None);
    let (east, other) = (
        desired(&sim, EAST, "us-east-1"),
        desired(&sim, OTHER, "us-east-1"),
    );
    assert_ne!(desired(&sim, EAST, "us-west-2"), 2);
    sim.run_until(60_000);
    assert_eq!(desired(&sim, EAST, "us-west-2"), 2);
    assert_eq!(desired(&sim, EAST, "us-east-1"), east);
    assert_eq!(desired(&sim, OTHER, "us-east-1"), other);
}

#[test]
fn an_event_or_alarm_on_unnamed_twins_is_refused_with_every_place() {
    let e = with(
        "[[events]]\nat = \"30s\"\naction = \"stop_task\"\nservice = \"prod/api\"\ncount = 1\n",
    )
    .unwrap_err();
    assert!(e.contains("events[0].service"), "{e}");
    assert!(e.contains("is in 3 places"), "{e}");
    for place in [
        "111122223333 us-east-1",
        "111122223333 us-west-2",
        "444455556666 us-east-1",
    ] {
        assert!(e.contains(place), "{place}: {e}");
    }
    // Region alone still leaves two in us-east-1.
    let e = with(
        "[[alarms]]\nname = \"x\"\nservice = \"prod/api\"\nregion = \"us-east-1\"\nmetric = \"CPUUtilization\"\nthreshold = 1\n",
    )
    .unwrap_err();
    assert!(e.contains("is in 2 places"), "{e}");
    let e = with("[[events]]\nat = \"30s\"\naction = \"stop_task\"\nservice = \"prod/api\"\nregion = \"eu-west-1\"\n")
        .unwrap_err();
    assert!(
        e.contains("unknown service \"prod/api\" in eu-west-1"),
        "{e}"
    );
}

#[test]
fn twins_may_have_alarms_of_the_same_name_each_on_its_own_service() {
    let sc = with(
        "[[alarms]]\nname = \"prod-api-cpu-high\"\nservice = \"prod/api\"\nregion = \"us-west-2\"\nmetric = \"CPUUtilization\"\nthreshold = 20\n",
    )
    .unwrap();
    let sim = Simulator::new(sc, None);
    let snap = sim.snapshot();
    let mut places: Vec<(String, String)> = snap
        .alarms
        .iter()
        .filter(|a| a.name == "prod-api-cpu-high")
        .map(|a| {
            let id = a.service_id().expect("on a service");
            assert_eq!((&*id.account, &*id.region), (&*a.account, &*a.region));
            (a.account.to_string(), a.region.to_string())
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            (EAST.to_string(), "us-east-1".to_string()),
            (EAST.to_string(), "us-west-2".to_string())
        ]
    );
    // The same name twice in one place is still refused.
    let e = with(
        "[[alarms]]\nname = \"prod-api-cpu-high\"\nservice = \"prod/api\"\nregion = \"us-east-1\"\naccount = \"111122223333\"\nmetric = \"CPUUtilization\"\nthreshold = 20\n",
    )
    .unwrap_err();
    assert!(e.contains("defined twice"), "{e}");
}
