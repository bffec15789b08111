//! `ecsdeck status`: a one-shot fleet summary for scripts and SSH checks.
//!
//! JSON contract (documented in the README; add fields, never rename):
//! `services[]` with `.account` (and `.account_alias` where known),
//! `.region`, `.cluster`, `.name`, `.health`
//! (steady|deploying|degraded|failed), `.desired`, `.running`, `.pending`,
//! `.tasks_by_az` {az: count}, `.alarms_in_alarm` [names], `.deployments`
//! [{`status`, `rollout_state`, `task_definition`}].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::az::UNKNOWN_AZ;
use crate::model::rows::{DeploymentSummary, ServiceRow};
use crate::model::{FleetSnapshot, ServiceHealth};
use crate::sanitize::{fit, fit_right, sanitize, truncate};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub source: SourceSummary,
    /// The text table shows account / region columns (not in the JSON:
    /// every service carries both there).
    #[serde(skip)]
    pub columns: (bool, bool),
    /// Source clock of the snapshot, RFC 3339.
    pub at: String,
    pub summary: BTreeMap<&'static str, usize>,
    pub services: Vec<ServiceStatus>,
    /// Every data kind of every region that failed or read with problems.
    pub errors: Vec<crate::model::DataError>,
}

#[derive(Debug, Serialize)]
pub struct SourceSummary {
    pub kind: String,
    pub label: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ServiceStatus {
    /// The 12-digit account id.
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_alias: Option<String>,
    pub region: String,
    pub cluster: String,
    pub name: String,
    pub health: ServiceHealth,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub tasks_by_az: BTreeMap<String, u32>,
    pub alarms_in_alarm: Vec<String>,
    pub deployments: Vec<DeploymentSummary>,
}

pub fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn report(snap: &FleetSnapshot, rows: &[ServiceRow]) -> StatusReport {
    let mut summary = BTreeMap::new();
    summary.insert("services", rows.len());
    for h in [
        ServiceHealth::Steady,
        ServiceHealth::Deploying,
        ServiceHealth::Degraded,
        ServiceHealth::Failed,
    ] {
        summary.insert(h.as_str(), rows.iter().filter(|r| r.health == h).count());
    }
    StatusReport {
        source: SourceSummary {
            kind: snap.source.kind.clone(),
            label: snap.source.label.clone(),
            region: snap.source.region.clone(),
            seed: snap.source.seed,
        },
        at: rfc3339(snap.at),
        columns: (snap.spans_accounts(), snap.spans_regions()),
        summary,
        errors: snap.errors(),
        services: rows
            .iter()
            .map(|r| {
                let mut tasks_by_az = r.spread.counts.clone();
                if r.spread.unknown > 0 {
                    tasks_by_az.insert(UNKNOWN_AZ.to_string(), r.spread.unknown);
                }
                ServiceStatus {
                    account: r.account.clone(),
                    account_alias: snap.account_aliases.get(&r.account).cloned(),
                    region: r.region.clone(),
                    cluster: r.cluster.clone(),
                    name: r.name.clone(),
                    health: r.health,
                    desired: r.desired,
                    running: r.running,
                    pending: r.pending,
                    tasks_by_az,
                    alarms_in_alarm: r.alarms_in_alarm.clone(),
                    deployments: r.deployments.clone(),
                }
            })
            .collect(),
    }
}

/// The kinds health is judged on beyond ECS (alarms in ALARM, unhealthy
/// targets) that were not read, as `kind (region)`: while any is, a fleet
/// that looks healthy may not be.
pub fn health_unread(snap: &FleetSnapshot) -> Vec<String> {
    snap.errors()
        .into_iter()
        .filter(|e| !e.partial && (e.kind == "cloudwatch" || e.kind == "elbv2"))
        .map(|e| format!("{} ({})", e.kind, error_place(&e, snap.spans_accounts())))
        .collect()
}

/// Where a failed kind was read, sanitized: `region`, or with several
/// accounts `account region` (`profile NAME region` while its account is
/// not known).
pub fn error_place(e: &crate::model::DataError, accounts: bool) -> String {
    let region = sanitize(&e.region);
    match (&e.profile, accounts) {
        (Some(p), _) => format!("profile {}, {region}", sanitize(p)),
        (None, true) if !e.account.is_empty() => format!("{}, {region}", sanitize(&e.account)),
        _ => region.into_owned(),
    }
}

/// 0 when no service is degraded or failed, 1 otherwise.
pub fn exit_code(rows: &[ServiceRow]) -> i32 {
    if rows.iter().any(|r| r.health.is_unhealthy()) {
        1
    } else {
        0
    }
}

/// Columns of the text table: title, width in cells, right-aligned. The
/// last one (alarms) is cut, not padded.
const COLUMNS: [(&str, usize, bool); 7] = [
    ("HEALTH", 10, false),
    ("CLUSTER", 16, false),
    ("SERVICE", 24, false),
    ("DES/RUN/PND", 11, true),
    ("DEPLOYMENTS", 24, false),
    ("TASKS PER AZ", 20, false),
    ("ALARMS", 48, false),
];

/// One table line: every cell sanitized and fitted to its column by display
/// width (CJK, emoji and combining marks align; long values end in `…`).
fn table_line(out: &mut String, cells: [&str; 7]) {
    for (i, (cell, (_, cols, right))) in cells.iter().zip(COLUMNS).enumerate() {
        if i == COLUMNS.len() - 1 {
            out.push_str(&truncate(cell, cols));
        } else if right {
            out.push_str(&fit_right(cell, cols));
        } else {
            out.push_str(&fit(cell, cols));
        }
        // Two spaces between the counts and the deployments, as before.
        out.push_str(match i {
            3 => "  ",
            6 => "\n",
            _ => " ",
        });
    }
}

/// The text form: one line per service, every source string sanitized.
pub fn render_text(rep: &StatusReport) -> String {
    let s = |x: &str| sanitize(x).into_owned();
    let mut out = String::new();
    let seed = rep
        .source
        .seed
        .map(|n| format!(" seed {n}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "ecsdeck status · {} {}{seed} · {} · {}",
        s(&rep.source.kind),
        s(&rep.source.label),
        s(&rep.source.region),
        s(&rep.at)
    );
    let (accounts, regions) = rep.columns;
    // Where each service is, only when the fleet spans several.
    let place = |out: &mut String, account: &str, region: &str| {
        if accounts {
            out.push_str(&fit(account, 12));
            out.push(' ');
        }
        if regions {
            out.push_str(&fit(region, 14));
            out.push(' ');
        }
    };
    place(&mut out, "ACCOUNT", "REGION");
    table_line(&mut out, COLUMNS.map(|(title, _, _)| title));
    for r in &rep.services {
        let deps = r
            .deployments
            .iter()
            .map(|d| {
                let status = sanitize(&d.status);
                let st = d.rollout_state.as_deref().map_or("-".into(), sanitize);
                format!("{}:{st}", status.chars().next().unwrap_or('?'))
            })
            .collect::<Vec<_>>()
            .join(",");
        let azs = r
            .tasks_by_az
            .iter()
            .map(|(az, n)| format!("{}:{n}", sanitize(crate::model::az::az_short(az))))
            .collect::<Vec<_>>()
            .join(" ");
        let alarms = if r.alarms_in_alarm.is_empty() {
            "-".to_string()
        } else {
            r.alarms_in_alarm
                .iter()
                .map(|a| s(a))
                .collect::<Vec<_>>()
                .join(",")
        };
        let counts = format!("{}/{}/{}", r.desired, r.running, r.pending);
        place(&mut out, &r.account, &r.region);
        table_line(
            &mut out,
            [
                r.health.as_str(),
                &r.cluster,
                &r.name,
                &counts,
                &deps,
                &azs,
                &alarms,
            ],
        );
    }
    let counts = ["steady", "deploying", "degraded", "failed"]
        .iter()
        .map(|k| format!("{} {k}", rep.summary.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "{} services: {counts}", rep.services.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanitize::width;
    use crate::source::sim::{Simulator, scenario::Scenario};

    /// Display columns at which a character (not a zero-width mark) starts,
    /// with the character before it.
    fn starts(line: &str) -> Vec<(usize, Option<char>)> {
        let mut out = Vec::new();
        let mut w = 0;
        let mut prev = None;
        for c in line.chars() {
            let cw = width(c.encode_utf8(&mut [0; 4]));
            if cw > 0 {
                out.push((w, prev));
            }
            w += cw;
            prev = Some(c);
        }
        out
    }

    #[test]
    fn text_table_aligns_by_display_width() {
        let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
        sim.run_until(60_000);
        let snap = sim.snapshot();
        let rows = crate::model::rows::build(&snap);
        let mut rep = report(&snap, &rows);
        let long = "n".repeat(300);
        let names = [
            "日本語のサービス名前がとても長い",
            "🚀🚀launch👍",
            "cafe\u{301}\u{301}-e\u{300}",
            long.as_str(),
            "\u{1b}[31mred\u{202e}\u{2028}x\u{200b}",
        ];
        assert_eq!(rep.services.len(), names.len());
        for (s, n) in rep.services.iter_mut().zip(names) {
            s.name = n.to_string();
        }
        rep.services[0].cluster = "集群-生产环境-东京区域".into();
        rep.services[1].alarms_in_alarm = vec!["a".repeat(300)];
        rep.services[2]
            .tasks_by_az
            .insert("ap-northeast-1\u{202e}日本".into(), 3);
        rep.services[3].deployments[0].rollout_state = Some("\u{1b}]0;x\u{7}日本".into());
        let text = render_text(&rep);
        assert!(
            !text.contains(['\u{1b}', '\u{202e}', '\u{2028}', '\u{200b}']),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        let table = &lines[1..lines.len() - 1];
        assert_eq!(table.len(), 1 + names.len());
        let cols = [0usize, 11, 28, 53, 66, 91, 112];
        for line in table {
            let st = starts(line);
            for c in &cols[1..] {
                let hit = st.iter().find(|(w, _)| w == c);
                assert!(
                    matches!(hit, Some((_, Some(' ')))),
                    "column at {c} of {line:?}: {hit:?}"
                );
            }
            // The alarms column holds at least "-", at most 48 cells.
            assert!(width(line) > 112, "{line:?}");
            assert!(width(line) <= 112 + 48, "{line:?}");
        }
        let service = |row: usize| {
            let line = table[row];
            let from = line
                .char_indices()
                .map(|(i, _)| i)
                .find(|&i| width(&line[..i]) == 28)
                .unwrap();
            let to = line
                .char_indices()
                .map(|(i, _)| i)
                .find(|&i| width(&line[..i]) == 52)
                .unwrap();
            line[from..to].to_string()
        };
        assert_eq!(service(1), "日本語のサービス名前が… ");
        assert_eq!(
            service(3),
            format!("cafe\u{301}\u{301}-e\u{300}{}", " ".repeat(18))
        );
        assert_eq!(service(4), format!("{}…", "n".repeat(23)));
        assert_eq!(service(5), format!("red x{}", " ".repeat(19)));
        assert!(
            table[2].ends_with(&format!("{}…", "a".repeat(47))),
            "{}",
            table[2]
        );
        assert!(table[3].contains(" ap-northeast-1日本:… "), "{}", table[3]);
        assert!(table[4].contains(":日本"), "{}", table[4]);
    }
}
