//! The console's incremental review: only services whose inputs changed
//! since the last snapshot are re-checked.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::ctx::{Index, Readiness, ctx_with};
use super::{
    Counts, Evaluated, Finding, Gap, NotEvaluated, OrderKey, Pillar, Review, ReviewConfig, count,
    evaluate_ranked, not_evaluated_with, scores_of,
};
use crate::model::FleetSnapshot;

/// A finding in the cache's ordered set, under its [`OrderKey`].
#[derive(Clone)]
struct Ordered(OrderKey, Arc<Finding>);

impl PartialEq for Ordered {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ordered {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

/// One service's findings as of the last update.
struct Entry {
    /// Its position in the last snapshot (part of its findings' keys).
    position: u32,
    /// The update that last saw it (entries not seen are gone services).
    seen: u64,
    /// Each with its check's rank.
    findings: Vec<(u16, Arc<Finding>)>,
    /// Checks not evaluated on it for want of an input.
    gaps: Vec<Gap>,
    /// A check read the clock: re-evaluated whenever the clock moved.
    clock: bool,
}

impl Entry {
    fn keyed(&self) -> impl Iterator<Item = Ordered> + '_ {
        self.findings
            .iter()
            .enumerate()
            .map(|(k, (rank, f))| Ordered((f.severity, *rank, self.position, k as u32), f.clone()))
    }
}

/// Incremental evaluation: only services whose inputs changed since the
/// last snapshot are re-checked, and only their findings move in the
/// ordered set.
///
/// The fast path: when the snapshot's collections (alarms, target groups,
/// metrics, …) are the same `Arc`s as last time and the services are the
/// same list, a service is unchanged when its `Arc` is, so an update costs
/// a pointer comparison per service plus the checks of the changed ones.
/// Otherwise each service's inputs are compared with the last snapshot's,
/// by pointer first and by value when the pointers differ.
#[derive(Default)]
pub struct ReviewCache {
    /// By service ARN.
    entries: FxHashMap<String, Entry>,
    ordered: std::collections::BTreeSet<Ordered>,
    counts: Counts,
    /// What the source could not read, as of the last update.
    ready: Option<Readiness>,
    not_evaluated: Vec<NotEvaluated>,
    /// Some service's gaps changed: `not_evaluated` is rebuilt.
    gaps_changed: bool,
    cfg: Option<ReviewConfig>,
    /// The last snapshot (a shallow copy: its collections are `Arc`s) and
    /// the index built over it.
    basis: Option<FleetSnapshot>,
    index: Index,
    generation: u64,
    /// Services re-evaluated by the last [`ReviewCache::update`].
    pub last_evaluated: usize,
}

/// The collections a service's checks read are the same `Arc`s.
fn same_collections(a: &FleetSnapshot, b: &FleetSnapshot) -> bool {
    Arc::ptr_eq(&a.clusters, &b.clusters)
        && Arc::ptr_eq(&a.task_definitions, &b.task_definitions)
        && Arc::ptr_eq(&a.target_groups, &b.target_groups)
        && Arc::ptr_eq(&a.scalable_targets, &b.scalable_targets)
        && Arc::ptr_eq(&a.alarms, &b.alarms)
        && Arc::ptr_eq(&a.log_groups, &b.log_groups)
        && Arc::ptr_eq(&a.metrics, &b.metrics)
}

/// The same services at the same positions (each maybe changed).
fn same_layout(a: &FleetSnapshot, b: &FleetSnapshot) -> bool {
    a.services.len() == b.services.len()
        && a.services
            .iter()
            .zip(&b.services)
            .all(|(x, y)| Arc::ptr_eq(x, y) || (x.arn == y.arn && x.cluster == y.cluster))
}

impl ReviewCache {
    /// Findings in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.ordered.iter().map(|o| &*o.1)
    }

    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// Findings per pillar and severity, kept up to date by each update.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    pub fn scores(&self) -> BTreeMap<Pillar, u32> {
        scores_of(&self.counts)
    }

    pub fn not_evaluated(&self) -> &[NotEvaluated] {
        &self.not_evaluated
    }

    /// The findings of one service (by ARN), in the order found.
    pub fn for_service(&self, arn: &str) -> impl Iterator<Item = &Finding> + '_ {
        self.entries
            .get(arn)
            .into_iter()
            .flat_map(|e| e.findings.iter().map(|(_, f)| &**f))
    }

    /// The review as of the last update, as one list (what [`evaluate`]
    /// returns for the same snapshot).
    pub fn review(&self) -> Review {
        Review {
            findings: self.findings().cloned().collect(),
            not_evaluated: self.not_evaluated.clone(),
            suppressed: vec![],
        }
    }

    fn reset(&mut self) {
        self.entries.clear();
        self.ordered.clear();
        self.counts.clear();
        self.basis = None;
    }

    /// Replace one service's findings. With `keep_order` false the ordered
    /// set and counts are left alone (the caller rebuilds them).
    fn set_findings(
        &mut self,
        arn: &str,
        position: u32,
        Evaluated { found, gaps, clock }: Evaluated,
        keep_order: bool,
    ) {
        let generation = self.generation;
        let entry = self.entries.entry(arn.to_string()).or_insert(Entry {
            position,
            seen: generation,
            findings: vec![],
            gaps: vec![],
            clock,
        });
        entry.clock = clock;
        if entry.gaps != gaps {
            entry.gaps = gaps;
            self.gaps_changed = true;
        }
        if keep_order {
            for o in entry.keyed() {
                count(&mut self.counts, &o.1, -1);
                self.ordered.remove(&o);
            }
        }
        entry.position = position;
        entry.seen = generation;
        entry.findings = found.into_iter().map(|(r, f)| (r, Arc::new(f))).collect();
        if keep_order {
            for o in entry.keyed() {
                count(&mut self.counts, &o.1, 1);
                self.ordered.insert(o);
            }
        }
    }

    /// The ordered set and counts from the entries (after services moved).
    fn rebuild_order(&mut self) {
        self.ordered.clear();
        self.counts.clear();
        for e in self.entries.values() {
            for o in e.keyed() {
                count(&mut self.counts, &o.1, 1);
                self.ordered.insert(o);
            }
        }
    }

    pub fn update(&mut self, snap: &FleetSnapshot, cfg: &ReviewConfig) {
        let ready = Readiness::of(snap);
        if self.ready.as_ref() != Some(&ready) || self.cfg.as_ref() != Some(cfg) {
            // What the source could read, or the policy, changed: all re-checked.
            self.reset();
            self.ready = Some(ready);
            self.cfg = Some(cfg.clone());
            self.gaps_changed = true;
        }
        let ready = self.ready.take().unwrap_or_default();
        self.generation += 1;
        let prev = self.basis.take();
        let old_index = std::mem::take(&mut self.index);
        let mut evaluated = 0;
        // The clock moved: services whose checks read it are re-evaluated
        // even when nothing else changed (REL-12's "for 30 min").
        let ticked = prev.as_ref().is_some_and(|p| p.at != snap.at);
        let on_clock = |entries: &FxHashMap<String, Entry>, arn: &str| {
            ticked && entries.get(arn).is_some_and(|e| e.clock)
        };
        match prev {
            Some(prev) if same_collections(&prev, snap) && same_layout(&prev, snap) => {
                // Fast path: only services whose Arc changed.
                self.index = old_index;
                for (i, (old, svc)) in prev.services.iter().zip(&snap.services).enumerate() {
                    if (Arc::ptr_eq(old, svc) || **old == **svc)
                        && !on_clock(&self.entries, &svc.arn)
                    {
                        continue;
                    }
                    let found = evaluate_ranked(snap, cfg, &self.index, &ready, i, svc);
                    self.set_findings(&svc.arn, i as u32, found, true);
                    evaluated += 1;
                }
                // Nothing came or went: no entry is gone. (`seen` is only
                // read by the full path, which marks every present service.)
            }
            prev => {
                // Services came, went or moved: their keys change, so the
                // order is rebuilt once at the end instead of patched.
                let moved = !prev.as_ref().is_some_and(|p| same_layout(p, snap));
                let index = if prev.as_ref().is_some_and(|p| same_collections(p, snap)) {
                    let mut ix = old_index.clone();
                    ix.index_services(snap);
                    ix
                } else {
                    Index::new(snap)
                };
                for (i, svc) in snap.services.iter().enumerate() {
                    let unchanged = match (&prev, self.entries.get(svc.arn.as_str())) {
                        (Some(p), Some(e)) => {
                            let pos = e.position as usize;
                            p.services.get(pos).is_some_and(|old| {
                                old.arn == svc.arn && {
                                    let a = ctx_with(p, cfg, &old_index, &ready, pos, old);
                                    let b = ctx_with(snap, cfg, &index, &ready, i, svc);
                                    a.same_inputs(&b)
                                }
                            })
                        }
                        _ => false,
                    } && !on_clock(&self.entries, &svc.arn);
                    if unchanged {
                        let generation = self.generation;
                        if let Some(e) = self.entries.get_mut(svc.arn.as_str()) {
                            e.position = i as u32;
                            e.seen = generation;
                        }
                    } else {
                        let found = evaluate_ranked(snap, cfg, &index, &ready, i, svc);
                        self.set_findings(&svc.arn, i as u32, found, !moved);
                        evaluated += 1;
                    }
                }
                // Services gone since the last snapshot (a service gone
                // means the layout changed, so the order is rebuilt below).
                let generation = self.generation;
                let before = self.entries.len();
                self.entries.retain(|_, e| e.seen == generation);
                if self.entries.len() != before {
                    self.gaps_changed = true;
                }
                if moved {
                    self.rebuild_order();
                }
                self.index = index;
            }
        }
        if self.gaps_changed {
            let mut entries: Vec<&Entry> = self
                .entries
                .values()
                .filter(|e| !e.gaps.is_empty())
                .collect();
            entries.sort_by_key(|e| e.position);
            let gaps: Vec<Gap> = entries.iter().flat_map(|e| e.gaps.clone()).collect();
            self.not_evaluated = not_evaluated_with(&gaps);
            self.gaps_changed = false;
        }
        self.ready = Some(ready);
        self.basis = Some(snap.clone());
        self.last_evaluated = evaluated;
    }
}
