//! Twins: the same cluster and service names in two regions (and in two
//! accounts) never share alarms, metrics, scaling, findings or rows.

use std::sync::Arc;

use crate::model::{AlarmState, FleetSnapshot, ServiceHealth, ServiceId};
use crate::review::{ReviewCache, ReviewConfig, evaluate};
use crate::source::sim::{Simulator, scenario::Scenario};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

/// The steady fleet, and its twin in us-west-2 (and, with `other_account`,
/// in a second account): same names, own ARNs, one alarm in ALARM in
/// us-east-1 only, metrics in us-east-1 only, desired counts that differ.
pub(crate) fn twins(other_account: Option<&str>) -> FleetSnapshot {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(120_000);
    let mut snap = sim.snapshot();
    let account = snap.services[0].account.clone();
    let west_account = other_account.unwrap_or(&account).to_string();
    let swap = |s: &str| {
        s.replace(&format!(":{EAST}:"), &format!(":{WEST}:"))
            .replace(&format!(":{account}:"), &format!(":{west_account}:"))
    };
    let mut west: Vec<_> = snap
        .services
        .iter()
        .map(|s| {
            let mut w = (**s).clone();
            w.region = WEST.into();
            w.account.clone_from(&west_account);
            w.arn = swap(&w.arn);
            w.desired_count += 7;
            for lb in &mut w.load_balancers {
                lb.target_group_arn = swap(&lb.target_group_arn);
            }
            Arc::new(w)
        })
        .collect();
    snap.services.append(&mut west);
    let clusters = Arc::make_mut(&mut snap.clusters);
    let mut wc: Vec<_> = clusters
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.region = WEST.into();
            c.account.clone_from(&west_account);
            c.arn = swap(&c.arn);
            c
        })
        .collect();
    clusters.append(&mut wc);
    let alarms = Arc::make_mut(&mut snap.alarms);
    let mut wa: Vec<_> = alarms
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.region = WEST.into();
            a.account.clone_from(&west_account);
            a.arn = swap(&a.arn);
            a.state = AlarmState::Ok;
            a
        })
        .collect();
    for a in alarms.iter_mut() {
        a.state = if a.service_key.as_deref() == Some("prod/api") {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
    }
    alarms.append(&mut wa);
    let tgs = Arc::make_mut(&mut snap.target_groups);
    let mut wt: Vec<_> = tgs
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.region = WEST.into();
            t.account.clone_from(&west_account);
            t.arn = swap(&t.arn);
            t
        })
        .collect();
    tgs.append(&mut wt);
    let targets = Arc::make_mut(&mut snap.scalable_targets);
    let mut ws: Vec<_> = targets
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.region = WEST.into();
            t.account.clone_from(&west_account);
            t.max_capacity += 100;
            t
        })
        .collect();
    targets.append(&mut ws);
    snap
}

fn id(snap: &FleetSnapshot, region: &str) -> ServiceId {
    snap.services_named("prod/api")
        .find(|s| s.region == region)
        .unwrap()
        .id()
}

fn each_twin_keeps_its_own(snap: &FleetSnapshot) {
    let (east, west) = (id(snap, EAST), id(snap, WEST));
    assert_ne!(east, west);
    assert_eq!(east.short(), west.short());
    let e = snap.service(&east).unwrap();
    let w = snap.service(&west).unwrap();
    assert_eq!(w.desired_count, e.desired_count + 7);
    // Alarms: the one in ALARM is us-east-1's only.
    assert!(snap.alarms_for(e).any(|a| a.state == AlarmState::Alarm));
    assert!(snap.alarms_for(e).all(|a| a.region == EAST));
    assert!(snap.alarms_for(w).all(|a| a.state == AlarmState::Ok));
    assert!(snap.alarms_for(w).all(|a| a.region == WEST));
    assert_eq!(snap.alarms_for(e).count(), snap.alarms_for(w).count());
    // Metrics: us-east-1 only.
    assert!(snap.metrics_for(e).is_some());
    assert!(snap.metrics_for(w).is_none());
    // Scaling: each its own target.
    let (te, tw) = (
        snap.scalable_target(e).unwrap(),
        snap.scalable_target(w).unwrap(),
    );
    assert_eq!(tw.max_capacity, te.max_capacity + 100);
    // Target groups: by ARN, each its own.
    let tge: Vec<_> = snap.target_groups_for(e).map(|t| &t.arn).collect();
    let tgw: Vec<_> = snap.target_groups_for(w).map(|t| &t.arn).collect();
    assert_eq!(tge.len(), 1);
    assert_eq!(tgw.len(), 1);
    assert_ne!(tge, tgw);
    // Rows: health and alarms in ALARM are per twin.
    let rows = crate::model::rows::build(snap);
    let re = rows.iter().find(|r| r.id == east).unwrap();
    let rw = rows.iter().find(|r| r.id == west).unwrap();
    assert_eq!(re.health, ServiceHealth::Degraded);
    assert!(!re.alarms_in_alarm.is_empty());
    assert!(rw.alarms_in_alarm.is_empty());
    // The twin's health is its own: judged without the east alarm.
    assert_eq!(
        rw.health,
        crate::model::health::classify_with(w, false, false)
    );
    let steady = crate::model::health::classify_with(e, false, false);
    assert_ne!(
        steady,
        ServiceHealth::Degraded,
        "east is degraded by its alarm only"
    );
    assert_eq!(rw.desired, re.desired + 7);
}

#[test]
fn twins_in_two_regions_share_nothing() {
    let mut snap = twins(None);
    let m = Arc::make_mut(&mut snap.metrics);
    m.retain(|k, _| *k.region == *EAST);
    each_twin_keeps_its_own(&snap);
}

#[test]
fn twins_in_two_accounts_share_nothing() {
    let mut snap = twins(Some("210987654321"));
    Arc::make_mut(&mut snap.metrics).retain(|k, _| *k.region == *EAST);
    each_twin_keeps_its_own(&snap);
    let west = id(&snap, WEST);
    assert_eq!(&*west.account, "210987654321");
    assert_eq!(snap.accounts().len(), 2);
}

#[test]
fn findings_of_twins_name_their_own_region_and_the_cache_agrees() {
    let mut snap = twins(Some("210987654321"));
    Arc::make_mut(&mut snap.metrics).retain(|k, _| *k.region == *EAST);
    let cfg = ReviewConfig::default();
    let review = evaluate(&snap, &cfg);
    let mut cache = ReviewCache::default();
    cache.update(&snap, &cfg);
    for region in [EAST, WEST] {
        let sid = id(&snap, region);
        let of: Vec<_> = review
            .findings
            .iter()
            .filter(|f| f.service.as_deref() == Some("api") && &*f.cluster == "prod")
            .filter(|f| *f.region == *region)
            .collect();
        assert!(!of.is_empty(), "{region}: no findings");
        assert!(of.iter().all(|f| *f.account == *sid.account));
        let cached: Vec<_> = cache.for_service(&sid).collect();
        assert_eq!(cached.len(), of.len(), "{region}");
        assert!(cached.iter().all(|f| *f.region == *region));
    }
    assert_eq!(cache.review().findings.len(), review.findings.len());
}
