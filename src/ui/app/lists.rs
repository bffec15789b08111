//! The derived lists panes draw and keys move through: service rows,
//! alarms, findings and timeline events that pass the filters, the log
//! window.

use super::*;

impl App {
    /// Service rows that pass the services filter.
    pub fn visible_rows(&self) -> Vec<&ServiceRow> {
        let f = self.filters.get(&Pane::Services);
        self.rows
            .iter()
            .filter(|r| {
                f.is_none_or(|f| {
                    f.is_match(&r.key)
                        || f.is_match(r.health.as_str())
                        || f.is_match(&r.task_definition)
                        || r.alarms_in_alarm.iter().any(|a| f.is_match(a))
                })
            })
            .collect()
    }

    /// The row under the cursor in the services table.
    pub fn selected_row(&self) -> Option<&ServiceRow> {
        let rows = self.visible_rows();
        let i = self
            .cursor(Pane::Services)
            .min(rows.len().saturating_sub(1));
        rows.get(i).copied()
    }

    /// The service the view is about: the open one, or the selected row.
    pub fn current_service_id(&self) -> Option<crate::model::ServiceId> {
        match &self.view {
            View::Service(k) => Some(k.clone()),
            _ => self.selected_row().map(|r| r.id.clone()),
        }
    }

    /// Alarm indices (into the snapshot) for the fleet alarms pane: ALARM first,
    /// then INSUFFICIENT_DATA, then OK; filtered.
    pub fn visible_alarms(&self) -> Vec<usize> {
        let snap = &self.store.snapshot;
        let f = self.filters.get(&Pane::Alarms);
        let mut idx: Vec<usize> = (0..snap.alarms.len())
            .filter(|i| {
                let a = &snap.alarms[*i];
                f.is_none_or(|f| {
                    f.is_match(&a.name)
                        || f.is_match(a.state.as_str())
                        || a.service_key.as_deref().is_some_and(|k| f.is_match(k))
                })
            })
            .collect();
        idx.sort_by_key(|i| {
            let a = &snap.alarms[*i];
            let rank = match a.state {
                crate::model::AlarmState::Alarm => 0,
                crate::model::AlarmState::InsufficientData => 1,
                crate::model::AlarmState::Ok => 2,
            };
            (rank, std::cmp::Reverse(a.state_updated_at))
        });
        idx
    }

    /// Review findings of the latest snapshot, kept up to date incrementally.
    pub fn review(&self) -> &ReviewCache {
        &self.review_cache
    }

    /// Findings for the findings pane (fleet) or the open service, filtered.
    pub fn visible_findings(&self) -> Vec<&Finding> {
        let f = self.filters.get(&Pane::Findings);
        let scope = match &self.view {
            View::Service(k) => Some(k),
            _ => None,
        };
        self.review()
            .findings()
            .filter(|x| scope.is_none_or(|k| finding_is_for(x, k)))
            .filter(|x| {
                review::suppress::suppression_for(&self.suppressions, x, self.store.snapshot.at)
                    .is_none()
            })
            .filter(|x| {
                f.is_none_or(|f| {
                    f.is_match(x.id)
                        || f.is_match(x.title)
                        || f.is_match(x.severity.as_str())
                        || f.is_match(x.pillar.code())
                        || f.is_match(&finding_key(x))
                        || x.evidence.iter().any(|e| f.is_match(e))
                })
            })
            .collect()
    }

    /// Timeline events, newest first, filtered (and scoped to the open service).
    pub fn visible_timeline(&self) -> Vec<&TimelineEvent> {
        let f = self.filters.get(&Pane::Timeline);
        let scope = match &self.view {
            View::Service(k) => Some(k),
            _ => None,
        };
        self.store
            .timeline
            .iter()
            .rev()
            .filter(|e| !self.timeline_bad_only || e.bad)
            .filter(|e| scope.is_none_or(|k| e.service.as_ref() == Some(k)))
            .filter(|e| f.is_none_or(|f| f.is_match(&e.summary) || f.is_match(e.kind.as_str())))
            .collect()
    }

    /// The service the logs pane shows (None = all services).
    pub fn log_scope(&self) -> Option<crate::model::ServiceId> {
        match &self.view {
            View::Service(k) => Some(k.clone()),
            _ if self.logs.all_services => None,
            _ => self.selected_row().map(|r| r.id.clone()),
        }
    }

    pub fn log_line_matches(
        &self,
        l: &StoredLine,
        scope: Option<&crate::model::ServiceId>,
    ) -> bool {
        // The service's own lines, not its twin's elsewhere (by name only
        // when the source could not tell the place).
        scope.is_none_or(|s| match &l.service {
            Some(from) => from == s,
            None => *l.service_key == *s.short(),
        }) && self
            .logs
            .stream
            .as_ref()
            .is_none_or(|st| *st == l.log_stream)
            && self
                .filters
                .get(&Pane::Logs)
                .is_none_or(|f| f.is_match(&l.text))
    }

    /// Up to `max` matching log lines ending at the anchor (or the newest
    /// line when following), oldest first.
    pub fn log_window(&self, max: usize) -> Vec<&StoredLine> {
        let scope = self.log_scope();
        let buf = &self.store.logs;
        let end = if self.logs.follow {
            buf.len()
        } else {
            buf.position_of(self.logs.anchor)
                .map_or(buf.len(), |p| p + 1)
        };
        let mut out: Vec<&StoredLine> = (0..end)
            .rev()
            .filter_map(|i| buf.get(i))
            .filter(|l| self.log_line_matches(l, scope.as_ref()))
            .take(max)
            .collect();
        out.reverse();
        out
    }
}
