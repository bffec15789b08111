//! `ecsdeck runbook list | show | validate | report` and the text pieces of
//! `runbook run`: what they print, built as strings so that the binary only
//! writes them out (and tests can read them).
//!
//! Every text line goes through [`sanitize`]: titles, parameter names and
//! defaults, step ids, alarm names, file names and error messages all come
//! from a runbook file, a journal or AWS, and must not reach the terminal
//! with their escape sequences.

use std::fmt::Write;
use std::path::Path;

use super::drive::Answers;
use super::engine::Summary;
use super::journal::{self, Event};
use super::{Block, Library, Runbook};
use crate::cli::{Format, RunbookCommand};
use crate::sanitize::sanitize;

/// What a command prints and its exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    pub stdout: String,
    /// Lines for stderr, each already prefixed with `ecsdeck: `.
    pub stderr: String,
    pub code: u8,
}

impl Printed {
    /// An error: one line on stderr, exit 2.
    pub fn fail(msg: impl std::fmt::Display) -> Printed {
        Printed {
            stdout: String::new(),
            stderr: format!("ecsdeck: {}\n", sanitize(&msg.to_string())),
            code: 2,
        }
    }

    fn warn(&mut self, msg: &str) {
        let _ = writeln!(self.stderr, "ecsdeck: {}", sanitize(msg));
    }
}

/// One sanitized line.
fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// `runbook list | show | validate | report`.
pub fn offline(cmd: &RunbookCommand, lib: &Library, data: Option<&Path>) -> Printed {
    match cmd {
        RunbookCommand::List { format } => list(lib, *format),
        RunbookCommand::Show { id } => show(lib, id),
        RunbookCommand::Validate { files } => validate(lib, files),
        RunbookCommand::Report { run_id } => report(lib, data, run_id),
        RunbookCommand::Run(_) => Printed::fail("`runbook run` needs a source"),
    }
}

/// `runbook list`: the runbooks on stdout, the files that failed to load on
/// stderr (one line each; the others are still listed).
pub fn list(lib: &Library, format: Format) -> Printed {
    let mut p = Printed::default();
    for pr in &lib.problems {
        p.warn(&pr.error);
    }
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = lib
                .runbooks
                .iter()
                .map(|r| {
                    serde_json::json!({"id": r.meta.id, "title": r.meta.title,
                        "kind": r.meta.kind.as_str(), "origin": r.origin})
                })
                .collect();
            p.stdout =
                crate::sanitize::json::to_string_pretty(&serde_json::json!({ "runbooks": list }))
                    .unwrap_or_default()
                    + "\n";
        }
        Format::Text => {
            for r in &lib.runbooks {
                let _ = writeln!(
                    p.stdout,
                    "{:<22} {:<12} {}",
                    clean(&r.meta.id),
                    r.meta.kind.as_str(),
                    clean(&r.meta.title)
                );
            }
        }
    }
    p
}

/// `runbook show ID`.
pub fn show(lib: &Library, id: &str) -> Printed {
    let Some(rb) = lib.get(id) else {
        return Printed::fail(format!("no runbook {id:?} (see `ecsdeck runbook list`)"));
    };
    Printed {
        stdout: show_text(rb),
        ..Printed::default()
    }
}

/// The text of `runbook show`.
pub fn show_text(rb: &Runbook) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} ({}, v{})",
        clean(&rb.meta.id),
        clean(&rb.meta.title),
        rb.meta.kind.as_str(),
        rb.meta.version
    );
    let _ = writeln!(out, "source: {}", clean(&rb.origin));
    let _ = writeln!(out, "\nparameters:");
    for (name, p) in &rb.meta.params {
        let d = p
            .default
            .as_ref()
            .map(|d| format!(" (default {})", clean(&d.to_string())))
            .unwrap_or_default();
        let req = if p.required { " required" } else { "" };
        let ty = format!("{:?}", p.ty).to_lowercase();
        let _ = writeln!(
            out,
            "  {}: {ty}{req}{d}  {}",
            clean(name),
            clean(p.prompt.as_deref().unwrap_or(""))
        );
    }
    let sf = &rb.meta.safety;
    if let Some(a) = &sf.arm_phrase {
        let _ = writeln!(out, "\narm phrase: {}", clean(a));
    }
    if !sf.blocking_findings.is_empty() {
        let _ = writeln!(
            out,
            "blocking findings: {}",
            clean(&sf.blocking_findings.join(", "))
        );
    }
    for c in &rb.meta.stop_conditions {
        let _ = writeln!(out, "stop condition: alarm {}", clean(&c.alarm));
    }
    let _ = writeln!(out, "\nsteps:");
    for (i, st) in rb.steps.iter().enumerate() {
        let what = match &st.block {
            Block::Action(a) => format!("action {}", a.op.name()),
            Block::Verify(v) => format!(
                "verify ({} condition{})",
                v.all.len(),
                if v.all.len() == 1 { "" } else { "s" }
            ),
            Block::Checkpoint(_) => "checkpoint".into(),
            Block::Prose => "read".into(),
        };
        let det = if st.common().detached {
            " [on demand]"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:>2}. {:<18} {:<28} {}{det}",
            i + 1,
            clean(&st.id),
            what,
            clean(&st.title)
        );
    }
    out
}

/// `runbook validate [FILE…]`: exit 1 on any error.
pub fn validate(lib: &Library, files: &[std::path::PathBuf]) -> Printed {
    let mut p = Printed::default();
    let mut bad = 0;
    if files.is_empty() {
        for r in &lib.runbooks {
            let _ = writeln!(
                p.stdout,
                "ok    {} ({})",
                clean(&r.meta.id),
                clean(&r.origin)
            );
        }
        for pr in &lib.problems {
            let _ = writeln!(p.stdout, "error {}", clean(&pr.error));
            bad += 1;
        }
    } else {
        for f in files {
            match super::load_file(f) {
                Ok(r) => {
                    let _ = writeln!(
                        p.stdout,
                        "ok    {} ({})",
                        clean(&r.meta.id),
                        clean(&f.display().to_string())
                    );
                }
                Err(e) => {
                    let _ = writeln!(p.stdout, "error {}", clean(&e));
                    bad += 1;
                }
            }
        }
    }
    p.code = u8::from(bad > 0);
    p
}

/// `runbook report RUN_ID`: re-render the report from the journal (also
/// written to `report.md`). A torn last line is left out, and said.
pub fn report(lib: &Library, data: Option<&Path>, run_id: &str) -> Printed {
    let Some(data) = data else {
        return Printed::fail("no data directory (pass --data-dir)");
    };
    if let Err(e) = journal::check_run_id(run_id) {
        return Printed::fail(e);
    }
    let dir = data.join("runs").join(run_id);
    let path = dir.join("journal.jsonl");
    let loaded = match journal::load(&path) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Printed::fail(format!("no run {run_id} ({}: {e})", path.display()));
        }
        Err(e) => return Printed::fail(format!("{}: {e}", path.display())),
    };
    let id = loaded
        .events
        .iter()
        .find_map(|e| match &e.body {
            super::events::Body::RunStart(s) => Some(s.runbook.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let Some(rb) = lib.get(&id) else {
        return Printed::fail(format!(
            "run {run_id} used runbook {id:?}, which is not installed"
        ));
    };
    let mut p = Printed::default();
    let notes: Vec<String> = loaded.torn_message(&path).into_iter().collect();
    for n in &notes {
        p.warn(n);
    }
    let md = super::report::render_with(rb, &loaded.events, &notes);
    if let Err(e) = std::fs::write(dir.join("report.md"), &md) {
        p.warn(&format!("{}: {e}", dir.join("report.md").display()));
    }
    p.stdout = md;
    p
}

/// Read and parse `--answers FILE` (a regular file under the size cap).
pub fn load_answers(path: &Path) -> Result<Answers, String> {
    let text = crate::files::read_text(path).map_err(|e| e.to_string())?;
    Answers::parse(&text, &path.display().to_string())
}

/// One progress line of a headless text run (`[T+00:01:10] step  what`).
pub fn progress_line(e: &Event, t0: i64) -> Option<String> {
    let line = super::report::describe(e)?;
    let d = (e.ts - t0).max(0) / 1000;
    Some(format!(
        "[T+{:02}:{:02}:{:02}] {:<16} {}",
        d / 3600,
        d % 3600 / 60,
        d % 60,
        clean(e.step.as_deref().unwrap_or("")),
        clean(&line)
    ))
}

/// The end of a headless text run: outcome, RTO/TTD, where the files are.
pub fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{}: {}{}",
        clean(&s.run_id),
        s.outcome.as_str(),
        s.reason
            .as_deref()
            .map(|r| format!(" — {}", clean(r)))
            .unwrap_or_default()
    );
    if let Some(r) = s.rto_seconds {
        let target = s
            .rto_target_seconds
            .map(|t| {
                format!(
                    " (target {t:.0}s: {})",
                    match s.rto_met {
                        Some(true) => "PASS",
                        Some(false) => "FAIL",
                        None => "no verdict: the run did not complete",
                    }
                )
            })
            .unwrap_or_default();
        let _ = writeln!(out, "RTO {r:.0}s{target}");
    }
    if let Some(t) = s.ttd_seconds {
        let _ = writeln!(out, "TTD {t:.0}s");
    }
    let _ = writeln!(
        out,
        "journal: {}\nreport:  {}",
        clean(&s.journal.display().to_string()),
        clean(&s.report.display().to_string())
    );
    out
}
