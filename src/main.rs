//! ecsdeck binary: parse the command line, pick the source, hand over to the
//! console or to a one-shot command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use ecsdeck::cli::{
    Cli, Command, FailOn, Format, GlobalOpts, ReviewFormat, RunArgs, RunbookCommand,
};
use ecsdeck::config::Config;
use ecsdeck::model::FleetSnapshot;
use ecsdeck::model::rows;
use ecsdeck::sanitize::json as safe_json;
use ecsdeck::source::aws::{AwsFleet, AwsOptions};
use ecsdeck::source::sim::{Simulator, scenario::Scenario};
use ecsdeck::source::{self, Update};
use ecsdeck::status;
use ecsdeck::ui::{self, app::App, theme::Theme};

/// Platform directories, with `--data-dir` taking precedence.
struct Dirs {
    data: Option<PathBuf>,
    config: Option<PathBuf>,
}

fn dirs(g: &GlobalOpts) -> Dirs {
    let pd = directories::ProjectDirs::from("", "", "ecsdeck");
    Dirs {
        data: g
            .data_dir
            .clone()
            .or_else(|| pd.as_ref().map(|p| p.data_dir().to_path_buf())),
        config: pd.as_ref().map(|p| p.config_dir().to_path_buf()),
    }
}

/// Tracing goes to `<data dir>/ecsdeck.log`, never to stdout/stderr.
fn init_tracing(data: Option<&PathBuf>) {
    let Some(dir) = data else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("ecsdeck.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ECSDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("ecsdeck: {msg}");
    ExitCode::from(2)
}

/// Resolve `--scenario`: a built-in name or a path to a TOML file.
fn load_scenario(name: &str) -> Result<Scenario, String> {
    let looks_like_path = name.contains('/') || name.ends_with(".toml");
    let res = if looks_like_path {
        Scenario::from_file(std::path::Path::new(name))
    } else {
        Scenario::builtin(name)
    };
    res.map_err(|e| e.to_string())
}

/// Suppressions from `--suppressions`, `[review].suppressions`, or
/// `<config dir>/suppressions.toml` (optional).
fn load_suppressions(
    explicit: Option<&std::path::Path>,
    config: &Config,
    config_dir: Option<&std::path::Path>,
) -> Result<Vec<ecsdeck::review::suppress::Suppression>, String> {
    let (path, must_exist) = match explicit.or(config.review.suppressions.as_deref()) {
        Some(p) => (p.to_path_buf(), true),
        None => match config_dir {
            Some(d) => (d.join("suppressions.toml"), false),
            None => return Ok(vec![]),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => ecsdeck::review::suppress::parse(&text, &path.display().to_string())
            .map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Ok(vec![]),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let g = &cli.global;
    let dirs = dirs(g);
    init_tracing(dirs.data.as_ref());

    let config = match Config::load(
        g.config.as_deref(),
        dirs.config.as_ref().map(|d| d.join("config.toml")),
    ) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };

    if let Some(Command::Scenarios) = cli.command {
        for n in Scenario::builtin_names() {
            println!("{n}");
        }
        return ExitCode::SUCCESS;
    }
    let runbook_dirs: Vec<PathBuf> = dirs
        .data
        .iter()
        .map(|d| d.join("runbooks"))
        .chain(g.runbooks.clone())
        .collect();
    if let Some(Command::Runbook(cmd)) = &cli.command
        && !matches!(cmd, RunbookCommand::Run(_))
    {
        return runbook_offline(cmd, &runbook_dirs, dirs.data.as_deref());
    }

    // Which source: the demo when asked, or when no AWS credentials exist.
    let demo = g.demo
        || g.scenario.is_some()
        || {
            let present =
                source::aws_credentials_present(g.profile.as_deref(), &|k| std::env::var(k).ok())
                    || g.endpoint_url.is_some();
            if !present {
                eprintln!(
                    "ecsdeck: no AWS credentials found (env, ~/.aws, --profile); opening the demo (use --demo to skip this check)"
                );
            }
            !present
        };
    let origin = if demo {
        let scenario_name = g
            .scenario
            .clone()
            .or(config.demo.scenario.clone())
            .unwrap_or_else(|| "steady".into());
        let scenario = match load_scenario(&scenario_name) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let speed = g.speed.or(config.demo.speed).unwrap_or(1.0);
        if !(speed > 0.0 && speed <= 1000.0) {
            return fail(format!("--speed {speed}: out of range (0 < speed ≤ 1000)"));
        }
        Origin::Demo {
            scenario: Box::new(scenario),
            seed: g.seed.or(config.demo.seed),
            speed,
        }
    } else {
        Origin::Aws(AwsOptions {
            profile: g.profile.clone().filter(|p| !p.is_empty()),
            region: g.region.first().cloned(),
            endpoint_url: g.endpoint_url.clone(),
            clusters: g.cluster.clone(),
            regions: g.region.clone(),
        })
    };

    match cli.command {
        Some(Command::Status(args)) => {
            let snap = match snapshot_once(origin, args.at) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let mut rows = rows::build(&snap);
            if !g.cluster.is_empty() {
                rows.retain(|r| g.cluster.contains(&r.cluster));
            }
            let rep = status::report(&snap, &rows);
            match args.format {
                Format::Json => match safe_json::to_string_pretty(&rep) {
                    Ok(j) => println!("{j}"),
                    Err(e) => return fail(e),
                },
                Format::Text => print!("{}", status::render_text(&rep)),
            }
            ExitCode::from(status::exit_code(&rows) as u8)
        }
        Some(Command::Review(args)) => {
            let mut snap = match snapshot_once(origin, args.at) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            if !g.cluster.is_empty() {
                snap.services.retain(|s| g.cluster.contains(&s.cluster));
            }
            let sups = match load_suppressions(
                args.suppressions.as_deref(),
                &config,
                dirs.config.as_deref(),
            ) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let review = ecsdeck::review::suppress::apply(
                ecsdeck::review::evaluate(&snap, &config.review.to_review_config()),
                &sups,
                snap.at,
            );
            let text = match args.format {
                ReviewFormat::Md => ecsdeck::review::report::markdown(&review, &snap),
                ReviewFormat::Json => {
                    safe_json::to_string_pretty(&ecsdeck::review::report::json(&review, &snap))
                        .unwrap_or_default()
                        + "\n"
                }
                ReviewFormat::Sarif => {
                    safe_json::to_string_pretty(&ecsdeck::review::report::sarif(&review))
                        .unwrap_or_default()
                        + "\n"
                }
            };
            match &args.output {
                Some(path) => {
                    if let Err(e) = std::fs::write(path, text) {
                        return fail(format!("{}: {e}", path.display()));
                    }
                }
                None => print!("{text}"),
            }
            let threshold = match args.fail_on {
                FailOn::Critical => ecsdeck::review::Severity::Critical,
                FailOn::High => ecsdeck::review::Severity::High,
                FailOn::Medium => ecsdeck::review::Severity::Medium,
                FailOn::Low => ecsdeck::review::Severity::Low,
            };
            ExitCode::from(u8::from(review.fails_at(threshold)))
        }
        Some(Command::Scenarios) => unreachable!("handled above"),
        Some(Command::Runbook(RunbookCommand::Run(args))) => {
            let review = config.review.to_review_config();
            runbook_run(
                &args,
                origin,
                &runbook_dirs,
                dirs.data.as_deref(),
                g.write,
                review,
            )
        }
        Some(Command::Runbook(_)) => unreachable!("handled above"),
        Some(Command::Tui) | None => {
            let theme_name = g
                .theme
                .clone()
                .or(config.theme.clone())
                .unwrap_or_else(|| "dark".into());
            let themes_dir = dirs.config.as_ref().map(|d| d.join("themes"));
            let theme = match Theme::load(&theme_name, themes_dir.as_deref()) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let no_color = std::env::var("NO_COLOR").ok();
            let mut app = App::new(theme.honour_no_color(no_color.as_deref()));
            app.no_color = no_color.is_some_and(|v| !v.is_empty());
            app.themes_dir = themes_dir;
            app.clusters = g.cluster.clone();
            app.review_config = config.review.to_review_config();
            app.suppressions = match load_suppressions(None, &config, dirs.config.as_deref()) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            app.runbooks.library = ecsdeck::runbook::Library::load(&runbook_dirs);
            app.runbooks.write = g.write;
            app.runbooks.data_dir = dirs.data.clone();
            app.runbooks.review = config.review.to_review_config();
            app.runbooks.source_label = source_label(&origin);
            run_console(app, origin)
        }
    }
}

/// Where the fleet comes from.
enum Origin {
    Demo {
        scenario: Box<Scenario>,
        seed: Option<u64>,
        speed: f64,
    },
    Aws(AwsOptions),
}

/// One snapshot for `status` and `review`: the simulator run to `at`, or one
/// full AWS refresh (an error with no data at all is exit 2).
fn snapshot_once(origin: Origin, at: Option<std::time::Duration>) -> Result<FleetSnapshot, String> {
    match origin {
        Origin::Demo { scenario, seed, .. } => {
            let mut sim = Simulator::new(*scenario, seed);
            if let Some(at) = at {
                sim.run_until(at.as_millis() as i64);
            }
            Ok(sim.snapshot())
        }
        Origin::Aws(opts) => {
            if at.is_some() {
                return Err("--at only applies to --demo".into());
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let snap = rt.block_on(async { AwsFleet::connect(opts).await.fetch().await });
            let ecs_error = snap.freshness.get("ecs").and_then(|f| f.error.clone());
            match snap.freshness.values().find_map(|f| f.error.clone()) {
                Some(_) if ecs_error.is_some() && snap.services.is_empty() => {
                    Err(ecs_error.unwrap_or_default())
                }
                Some(e) => {
                    eprintln!("ecsdeck: partial data: {e}");
                    Ok(snap)
                }
                None => Ok(snap),
            }
        }
    }
}

fn run_console(mut app: App, origin: Origin) -> ExitCode {
    // A readable panic report, printed after ratatui's hook has restored the terminal.
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    let exit = rt.block_on(async move {
        let handle = match origin {
            Origin::Demo {
                scenario,
                seed,
                speed,
            } => ecsdeck::source::sim::spawn(Simulator::new(*scenario, seed), speed),
            Origin::Aws(opts) => {
                let fleet = AwsFleet::connect(opts).await;
                ecsdeck::source::aws::spawn(fleet, Default::default())
            }
        };
        // The first frame shows data, not "connecting…" (the simulator has
        // it at once; AWS shows "connecting…" until its first refresh).
        let first = handle.snapshots.borrow().clone();
        if !first.source.kind.is_empty() {
            app.apply(Update::Snapshot(first));
        }
        // ratatui::init installs a panic hook that restores the terminal first.
        let mut terminal = ratatui::init();
        let res = ui::run(&mut terminal, app, handle).await;
        ratatui::restore();
        res
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match exit {
        Ok(ui::Exit::Quit) | Ok(ui::Exit::InputClosed) => ExitCode::SUCCESS,
        Ok(ui::Exit::Signal(sig)) => {
            tracing::info!("exiting on {sig}");
            // Conventional 128 + signal number.
            ExitCode::from(match sig {
                "SIGHUP" => 129,
                "SIGINT" => 130,
                _ => 143,
            })
        }
        Err(e) => fail(format!("terminal error: {e}")),
    }
}

/// `runbook list | show | validate | report`: no fleet needed.
fn runbook_offline(
    cmd: &RunbookCommand,
    user_dirs: &[PathBuf],
    data: Option<&std::path::Path>,
) -> ExitCode {
    use ecsdeck::runbook::{Block, Library};
    let lib = Library::load(user_dirs);
    match cmd {
        RunbookCommand::List { format } => {
            for p in &lib.problems {
                eprintln!("ecsdeck: {}", p.error);
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
                    println!(
                        "{}",
                        safe_json::to_string_pretty(&serde_json::json!({ "runbooks": list }))
                            .unwrap_or_default()
                    );
                }
                Format::Text => {
                    for r in &lib.runbooks {
                        println!(
                            "{:<22} {:<12} {}",
                            r.meta.id,
                            r.meta.kind.as_str(),
                            r.meta.title
                        );
                    }
                }
            }
            ExitCode::SUCCESS
        }
        RunbookCommand::Show { id } => {
            let Some(rb) = lib.get(id) else {
                return fail(format!("no runbook {id:?} (see `ecsdeck runbook list`)"));
            };
            println!(
                "{} — {} ({}, v{})",
                rb.meta.id,
                rb.meta.title,
                rb.meta.kind.as_str(),
                rb.meta.version
            );
            println!("source: {}", rb.origin);
            println!("\nparameters:");
            for (name, p) in &rb.meta.params {
                let d = p
                    .default
                    .as_ref()
                    .map(|d| format!(" (default {d})"))
                    .unwrap_or_default();
                let req = if p.required { " required" } else { "" };
                let ty = format!("{:?}", p.ty).to_lowercase();
                println!(
                    "  {name}: {ty}{req}{d}  {}",
                    p.prompt.as_deref().unwrap_or("")
                );
            }
            let sf = &rb.meta.safety;
            if let Some(a) = &sf.arm_phrase {
                println!("\narm phrase: {a}");
            }
            if !sf.blocking_findings.is_empty() {
                println!("blocking findings: {}", sf.blocking_findings.join(", "));
            }
            for c in &rb.meta.stop_conditions {
                println!("stop condition: alarm {}", c.alarm);
            }
            println!("\nsteps:");
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
                println!(
                    "  {:>2}. {:<18} {:<28} {}{det}",
                    i + 1,
                    st.id,
                    what,
                    st.title
                );
            }
            ExitCode::SUCCESS
        }
        RunbookCommand::Validate { files } => {
            let mut bad = 0;
            if files.is_empty() {
                for r in &lib.runbooks {
                    println!("ok    {} ({})", r.meta.id, r.origin);
                }
                for p in &lib.problems {
                    println!("error {}", p.error);
                    bad += 1;
                }
            } else {
                for f in files {
                    match ecsdeck::runbook::load_file(f) {
                        Ok(r) => println!("ok    {} ({})", r.meta.id, f.display()),
                        Err(e) => {
                            println!("error {e}");
                            bad += 1;
                        }
                    }
                }
            }
            ExitCode::from(u8::from(bad > 0))
        }
        RunbookCommand::Report { run_id } => {
            let Some(data) = data else {
                return fail("no data directory (pass --data-dir)");
            };
            let dir = data.join("runs").join(run_id);
            let events = match ecsdeck::runbook::journal::read(&dir.join("journal.jsonl")) {
                Ok(e) => e,
                Err(e) => return fail(format!("{}: {e}", dir.display())),
            };
            let id = events
                .iter()
                .find(|e| e.kind == "run_start")
                .and_then(|e| e.detail["runbook"].as_str())
                .unwrap_or_default()
                .to_string();
            let Some(rb) = lib.get(&id) else {
                return fail(format!(
                    "run {run_id} used runbook {id:?}, which is not installed"
                ));
            };
            let md = ecsdeck::runbook::report::render(rb, &events);
            let _ = std::fs::write(dir.join("report.md"), &md);
            print!("{md}");
            ExitCode::SUCCESS
        }
        RunbookCommand::Run(_) => unreachable!("needs a source"),
    }
}

/// `runbook run`: headless, on the simulator (virtual time) or AWS.
fn runbook_run(
    args: &RunArgs,
    origin: Origin,
    user_dirs: &[PathBuf],
    data: Option<&std::path::Path>,
    write: bool,
    review: ecsdeck::review::ReviewConfig,
) -> ExitCode {
    use ecsdeck::runbook::drive::{Answers, Backend, SimBackend, run_headless};
    use ecsdeck::runbook::engine::{Outcome, RunConfig, Runner, bind_params};
    use ecsdeck::runbook::{Library, journal};
    let lib = Library::load(user_dirs);
    let Some(rb) = lib.get(&args.id).cloned() else {
        let ids: Vec<&str> = lib.runbooks.iter().map(|r| r.meta.id.as_str()).collect();
        return fail(format!(
            "no runbook {:?} (have: {})",
            args.id,
            ids.join(", ")
        ));
    };
    let Some(data) = data else {
        return fail("no data directory for the run journal (pass --data-dir)");
    };
    let answers = match &args.answers {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => match Answers::parse(&t, &f.display().to_string()) {
                Ok(a) => a,
                Err(e) => return fail(e),
            },
            Err(e) => return fail(format!("{}: {e}", f.display())),
        },
        None => Answers::default(),
    };
    let operator = args
        .operator
        .clone()
        .or(answers.operator.clone())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into());
    let source = source_label(&origin);
    let cfg = RunConfig {
        write,
        operator,
        review,
        data_dir: Some(data.to_path_buf()),
        source,
    };
    let mut runner = match &args.resume {
        Some(run_id) => {
            if !args.params.is_empty() {
                return fail("--resume takes the parameters from the journal; drop --param");
            }
            match Runner::resume(rb, cfg, run_id.clone()) {
                Ok(r) => r,
                Err(e) => return fail(e),
            }
        }
        None => {
            let given = args.params.iter().cloned().collect();
            let params = match bind_params(&rb, &given) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            let id = journal::new_run_id(&rb.meta.id);
            match Runner::new(rb, params, cfg, id) {
                Ok(r) => r,
                Err(e) => return fail(format!("{}: {e}", data.display())),
            }
        }
    };
    let mut backend: Box<dyn Backend> = match origin {
        Origin::Demo { scenario, seed, .. } => {
            let mut sim = Simulator::new(*scenario, seed);
            if args.resume.is_some() {
                let mut b = SimBackend::new(sim);
                let events = runner.journal.events.clone();
                if let Err(e) = b.replay(&events) {
                    return fail(e);
                }
                Box::new(b)
            } else {
                if let Some(at) = args.at {
                    sim.run_until(at.as_millis() as i64);
                }
                Box::new(SimBackend::new(sim))
            }
        }
        Origin::Aws(opts) => {
            if args.at.is_some() {
                return fail("--at only applies to --demo");
            }
            match ecsdeck::source::aws::actions::AwsBackend::connect(opts, &runner) {
                Ok(b) => Box::new(b),
                Err(e) => return fail(e),
            }
        }
    };
    let text = args.format == Format::Text;
    if !write {
        let msg = "dry run: no change will be made (start ecsdeck with --write to act)";
        if text {
            println!("{msg}");
        } else {
            eprintln!("ecsdeck: {msg}");
        }
    }
    let mut t0 = runner.journal.events.first().map(|e| e.ts);
    let mut progress = |e: &journal::Event| {
        if !text {
            return;
        }
        if let Some(line) = ecsdeck::runbook::report::describe(e) {
            let t = *t0.get_or_insert(e.ts);
            let d = (e.ts - t).max(0) / 1000;
            println!(
                "[T+{:02}:{:02}:{:02}] {:<16} {}",
                d / 3600,
                d % 3600 / 60,
                d % 60,
                e.step.as_deref().unwrap_or(""),
                ecsdeck::sanitize::sanitize(&line)
            );
        }
    };
    let summary = match run_headless(
        &mut runner,
        backend.as_mut(),
        &answers,
        args.yes,
        &mut progress,
    ) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match args.format {
        Format::Json => println!(
            "{}",
            safe_json::to_string_pretty(&summary).unwrap_or_default()
        ),
        Format::Text => {
            println!(
                "\n{}: {}{}",
                summary.run_id,
                summary.outcome.as_str(),
                summary
                    .reason
                    .as_deref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            );
            if let Some(r) = summary.rto_seconds {
                let target = summary
                    .rto_target_seconds
                    .map(|t| {
                        format!(
                            " (target {t:.0}s: {})",
                            if summary.rto_met == Some(true) {
                                "PASS"
                            } else {
                                "FAIL"
                            }
                        )
                    })
                    .unwrap_or_default();
                println!("RTO {r:.0}s{target}");
            }
            if let Some(t) = summary.ttd_seconds {
                println!("TTD {t:.0}s");
            }
            println!(
                "journal: {}\nreport:  {}",
                summary.journal.display(),
                summary.report.display()
            );
        }
    }
    ExitCode::from(u8::from(summary.outcome != Outcome::Completed))
}

/// How a run's journal names its source (a resume must match it).
fn source_label(origin: &Origin) -> String {
    match origin {
        Origin::Demo { scenario, seed, .. } => format!(
            "demo:{} seed {}",
            scenario.scenario.name,
            seed.unwrap_or(scenario.scenario.seed)
        ),
        Origin::Aws(o) => format!(
            "aws:{}@{}{}",
            o.profile.as_deref().unwrap_or("default"),
            o.region.as_deref().unwrap_or("default-region"),
            o.endpoint_url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ),
    }
}
