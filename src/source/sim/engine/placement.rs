//! Where tasks go and which go first: AZ load, scale-in order, the
//! scheduler's stops and AZ rebalancing.

use super::*;

impl Engine {
    /// The AZs a task of service `si` can be placed in (its subnets' AZs
    /// that are not impaired, in subnet order) with the tasks not leaving
    /// in each: one pass over the tasks.
    pub(super) fn az_load(&self, si: usize) -> Vec<(String, usize)> {
        let s = &self.services[si];
        let key = s.svc.id().qualified();
        let mut load: Vec<(String, usize)> = s
            .svc
            .subnets
            .iter()
            .map(|n| n.availability_zone.clone())
            .filter(|az| !Self::az_impaired(&self.impaired, &key, az))
            .map(|az| (az, 0))
            .collect();
        for t in &s.tasks {
            if is_leaving(&t.task) {
                continue;
            }
            if let Some(az) = t.task.availability_zone.as_deref()
                && let Some(e) = load.iter_mut().find(|(a, _)| a == az)
            {
                e.1 += 1;
            }
        }
        load
    }

    /// Where the next task of service `si` goes: the least loaded usable AZ.
    pub(super) fn pick_az(&mut self, si: usize) -> Option<String> {
        take_least(&mut self.az_load(si))
    }

    /// Stop tasks on the scheduler's behalf and say so in the service events.
    pub(super) fn scheduler_stop(&mut self, si: usize, ids: &[String], deployment: &str) {
        if ids.is_empty() {
            return;
        }
        // One index of the tasks, not a search per id.
        let at: Vec<usize> = {
            let mut by_id = std::collections::HashMap::with_capacity(self.services[si].tasks.len());
            for (i, t) in self.services[si].tasks.iter().enumerate() {
                by_id.entry(t.task.id.as_str()).or_insert(i);
            }
            ids.iter()
                .filter_map(|id| by_id.get(id.as_str()).copied())
                .collect()
        };
        self.scheduler_stop_at(si, &at, deployment);
    }

    /// [`Engine::scheduler_stop`] of the tasks at these positions.
    pub(super) fn scheduler_stop_at(&mut self, si: usize, at: &[usize], deployment: &str) {
        if at.is_empty() {
            return;
        }
        let now = self.now();
        let reason = format!("Scaling activity initiated by (deployment {deployment})");
        let mut ids = Vec::with_capacity(at.len());
        for &i in at {
            let Some(t) = self.services[si].tasks.get_mut(i) else {
                continue;
            };
            if !is_leaving(&t.task) {
                begin_stop(t, now, "ServiceSchedulerInitiated", &reason, Some(0));
            }
            ids.push(t.task.id.clone());
        }
        let name = self.services[si].svc.name.clone();
        let list = ids
            .iter()
            .map(|id| format!("(task {id})"))
            .collect::<Vec<_>>()
            .join(" ");
        self.service_event(
            si,
            format!(
                "(service {name}) has stopped {} running tasks: {list}.",
                ids.len()
            ),
        );
    }

    /// ECS AZ rebalancing: when steady and the spread is off by more than
    /// one, start a task in the least loaded AZ; once it is healthy the
    /// scheduler stops one in the most loaded AZ (step 3 above).
    pub(super) fn rebalance(&mut self, si: usize, steady: bool) {
        let now = self.now();
        let s = &self.services[si];
        if !s.az_rebalancing
            || !steady
            || s.rebalance_task.is_some()
            || now - s.last_rebalance < 30_000
        {
            return;
        }
        let key = s.svc.id().qualified();
        let usable: Vec<String> = s
            .svc
            .subnets
            .iter()
            .map(|n| n.availability_zone.clone())
            .filter(|az| !Self::az_impaired(&self.impaired, &key, az))
            .collect();
        if usable.len() < 2 {
            return;
        }
        let count = |az: &str| {
            s.tasks
                .iter()
                .filter(|t| !is_leaving(&t.task) && t.task.availability_zone.as_deref() == Some(az))
                .count()
        };
        let max_n = usable.iter().map(|a| count(a)).max().unwrap_or(0);
        let min_n = usable.iter().map(|a| count(a)).min().unwrap_or(0);
        if max_n <= min_n + 1 {
            return;
        }
        let Some(primary) = s.svc.deployments.first().cloned() else {
            return;
        };
        let Some(az) = self.pick_az(si) else { return };
        let t = self.new_task(si, &primary.id, &primary.task_definition, &az);
        let id = t.task.id.clone();
        self.services[si].tasks.push(t);
        self.services[si].rebalance_task = Some(id.clone());
        self.services[si].last_rebalance = now;
        let name = self.services[si].svc.name.clone();
        self.service_event(si, format!("(service {name}) is rebalancing tasks across Availability Zones: started (task {id}) in {az}."));
    }

    /// A running task in the most loaded AZ (healthy ones last to go is not
    /// what ECS does: it balances first), never `except`.
    pub(super) fn most_loaded_task(
        &self,
        si: usize,
        except: Option<&str>,
    ) -> Option<(String, String)> {
        let i = *self.scale_in_order(si, 1, except).first()?;
        let t = &self.services[si].tasks[i].task;
        Some((
            t.id.clone(),
            t.availability_zone.clone().unwrap_or_default(),
        ))
    }

    /// The positions of the next `n` tasks to stop when scaling in, in
    /// order: each is the task not leaving with the greatest (tasks not
    /// leaving in its AZ, not yet running, id) once the ones before it
    /// stopped — [`Engine::most_loaded_task`] asked `n` times, in
    /// O(tasks · log tasks + n · AZs) instead of O(n · tasks²). `except`
    /// counts in its AZ but is never picked.
    pub(super) fn scale_in_order(&self, si: usize, n: usize, except: Option<&str>) -> Vec<usize> {
        let tasks = &self.services[si].tasks;
        // Per AZ: its count, and its candidates sorted so the best is last.
        let mut groups: Vec<(Option<&str>, usize, Vec<usize>)> = Vec::new();
        for (i, t) in tasks.iter().enumerate() {
            if is_leaving(&t.task) {
                continue;
            }
            let az = t.task.availability_zone.as_deref();
            let g = match groups.iter().position(|g| g.0 == az) {
                Some(g) => g,
                None => {
                    groups.push((az, 0, Vec::new()));
                    groups.len() - 1
                }
            };
            groups[g].1 += 1;
            if Some(t.task.id.as_str()) != except {
                groups[g].2.push(i);
            }
        }
        let key = |i: usize| {
            let t = &tasks[i].task;
            (!t.is_running(), t.id.as_str())
        };
        for g in &mut groups {
            g.2.sort_by(|a, b| key(*a).cmp(&key(*b)));
        }
        let mut out = Vec::with_capacity(n.min(tasks.len()));
        while out.len() < n {
            let best = groups
                .iter()
                .enumerate()
                .filter_map(|(gi, g)| Some((gi, g.1, key(*g.2.last()?))))
                .max_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
            let Some((gi, _, _)) = best else { break };
            let g = &mut groups[gi];
            if let Some(i) = g.2.pop() {
                out.push(i);
                g.1 -= 1;
            }
        }
        out
    }
}

/// The least loaded AZ of `load` (the first of equals), counted one more.
pub(super) fn take_least(load: &mut [(String, usize)]) -> Option<String> {
    let i = (0..load.len()).min_by_key(|&i| load[i].1)?;
    load[i].1 += 1;
    Some(load[i].0.clone())
}
