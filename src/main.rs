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

/// One line on stderr, sanitized (messages quote files, AWS and user input).
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    let msg = msg.to_string();
    let lines: Vec<_> = msg.lines().map(ecsdeck::sanitize::sanitize).collect();
    eprintln!("ecsdeck: {}", lines.join("\n"));
    ExitCode::from(2)
}

/// Write to stdout. A closed pipe (`ecsdeck status | head -1`) is not an
/// error: the rest of the output is dropped and the command still returns
/// its own exit code, so a gate is never greener for being piped.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("ecsdeck: stdout: {e}"),
    }
}

fn emitln(text: &str) {
    emit(&format!("{text}\n"));
}

/// Resolve `--scenario`, else the config's `[demo] scenario`, else `steady`:
/// a built-in name or a path to a TOML file. A name that is neither is
/// blamed on where it was given (`--scenario`, or the config file and line).
fn load_scenario(cli: Option<&str>, config: &Config) -> Result<Scenario, String> {
    let (name, given_at) = match (cli, config.demo.scenario.as_deref()) {
        (Some(n), _) => (n, "--scenario".to_string()),
        (None, Some(n)) => (
            n,
            config
                .blame("demo.scenario")
                .map_or_else(|| "config".into(), |at| format!("{at}: demo.scenario")),
        ),
        (None, None) => ("steady", "the default scenario".to_string()),
    };
    let looks_like_path = name.contains('/') || name.ends_with(".toml");
    let res = if looks_like_path {
        Scenario::from_file(std::path::Path::new(name))
    } else {
        Scenario::builtin(name)
    };
    res.map_err(|e| match (e.line, looks_like_path) {
        // Errors inside a scenario file name that file and line.
        (1.., _) => e.to_string(),
        (0, true) => format!("{given_at}: {e}"),
        (0, false) => format!(
            "{given_at}: {name:?} is not a built-in scenario (built-in: {}; or give a path to a .toml file)",
            Scenario::builtin_names().join(", ")
        ),
    })
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
    // A regular file of at most 4 MiB: a FIFO or a device is refused, not read.
    match ecsdeck::files::read_text(&path) {
        Ok(text) => ecsdeck::review::suppress::parse(&text, &path.display().to_string())
            .map_err(|e| e.to_string()),
        Err(e) if e.is_not_found() && !must_exist => Ok(vec![]),
        Err(e) => Err(match (explicit, config.blame("review.suppressions")) {
            (None, Some(at)) => format!("{at}: review.suppressions: {e}"),
            _ => e.to_string(),
        }),
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
            emitln(n);
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

    // Which source: the demo when asked. Without AWS credentials only the
    // console opens it by itself (and says so on screen); a one-shot command
    // must never pass on simulated data.
    let one_shot = matches!(
        cli.command,
        Some(Command::Status(_) | Command::Review(_) | Command::Runbook(RunbookCommand::Run(_)))
    );
    let mut demo_notice = None;
    let demo = g.demo || g.scenario.is_some() || {
        let present =
            source::aws_credentials_present(g.profile.first().map(String::as_str), &|k| {
                std::env::var(k).ok()
            }) || g.endpoint_url.is_some();
        if !present && one_shot {
            return fail(
                "no AWS credentials found (environment, ~/.aws/config or credentials, --profile): \
                     give credentials (aws configure, aws sso login --profile NAME, AWS_PROFILE) \
                     or pass --demo for the built-in simulator",
            );
        }
        if !present {
            demo_notice = Some("DEMO: no AWS credentials found, simulated data");
        }
        !present
    };
    let origin = if demo {
        let scenario = match load_scenario(g.scenario.as_deref(), &config) {
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
            profile: g.profile.first().cloned().filter(|p| !p.is_empty()),
            profiles: g
                .profile
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            region: g.region.first().cloned(),
            endpoint_url: g.endpoint_url.clone(),
            clusters: g.cluster.clone(),
            regions: g.region.clone(),
        })
    };

    match cli.command {
        Some(Command::Status(args)) => status_cmd(&args, origin, g),
        Some(Command::Review(args)) => review_cmd(&args, origin, g, &config, &dirs),
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
            console_cmd(g, &config, &dirs, &runbook_dirs, origin, demo_notice)
        }
    }
}

/// `ecsdeck status`: one snapshot, a table or JSON, the health exit code.
fn status_cmd(args: &ecsdeck::cli::StatusArgs, origin: Origin, g: &GlobalOpts) -> ExitCode {
    let snap = match snapshot_once(origin, args.at, g.timeout) {
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
            Ok(j) => emitln(&j),
            Err(e) => return fail(e),
        },
        Format::Text => emit(&status::render_text(&rep)),
    }
    let code = status::exit_code(&rows);
    if code == 0 && !args.allow_missing_data {
        let blind = status::health_unread(&snap);
        if !blind.is_empty() {
            return fail(format!(
                "cannot call the fleet healthy: {} not read (health counts alarms in ALARM and unhealthy targets); pass --allow-missing-data to judge on what was read",
                blind.join(", ")
            ));
        }
    }
    ExitCode::from(code as u8)
}

/// `ecsdeck review`: one snapshot, the report, the `--fail-on` gate.
fn review_cmd(
    args: &ecsdeck::cli::ReviewArgs,
    origin: Origin,
    g: &GlobalOpts,
    config: &Config,
    dirs: &Dirs,
) -> ExitCode {
    let mut snap = match snapshot_once(origin, args.at, g.timeout) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if !g.cluster.is_empty() {
        snap.services.retain(|s| g.cluster.contains(&s.cluster));
    }
    let sups = match load_suppressions(args.suppressions.as_deref(), config, dirs.config.as_deref())
    {
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
        None => emit(&text),
    }
    let threshold = match args.fail_on {
        FailOn::Critical => ecsdeck::review::Severity::Critical,
        FailOn::High => ecsdeck::review::Severity::High,
        FailOn::Medium => ecsdeck::review::Severity::Medium,
        FailOn::Low => ecsdeck::review::Severity::Low,
    };
    let missing: Vec<_> = review.missing_at(threshold).collect();
    for n in &missing {
        eprintln!(
            "ecsdeck: {} ({}) not evaluated on {}: {}",
            n.id,
            n.severity.as_str(),
            ecsdeck::sanitize::sanitize(&n.services.join(", ")),
            ecsdeck::sanitize::sanitize(&n.reason)
        );
    }
    let gate = review.fails_at(threshold) || (!missing.is_empty() && !args.allow_missing_data);
    if !missing.is_empty() && !review.fails_at(threshold) {
        eprintln!(
            "ecsdeck: {}: {} check(s) at or above --fail-on {} could not be evaluated{}",
            if args.allow_missing_data {
                "passing"
            } else {
                "failing"
            },
            missing.len(),
            threshold.as_str(),
            if args.allow_missing_data {
                " (--allow-missing-data)"
            } else {
                "; pass --allow-missing-data to gate on what was read"
            }
        );
    }
    ExitCode::from(u8::from(gate))
}

/// The interactive console.
fn console_cmd(
    g: &GlobalOpts,
    config: &Config,
    dirs: &Dirs,
    runbook_dirs: &[PathBuf],
    origin: Origin,
    demo_notice: Option<&str>,
) -> ExitCode {
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
    app.suppressions = match load_suppressions(None, config, dirs.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    app.runbooks.library = ecsdeck::runbook::Library::load(runbook_dirs);
    app.runbooks.write = g.write;
    app.runbooks.data_dir = dirs.data.clone();
    app.runbooks.review = config.review.to_review_config();
    app.runbooks.source_label = source_label(&origin);
    app.notice = demo_notice.map(str::to_string);
    if let Origin::Aws(opts) = &origin {
        // `:ctx` builds fleets as this start does, with the same endpoint
        // and clusters; the set starts as `--profile` × `--region`.
        app.context = Some(ecsdeck::source::context::ContextSet {
            profiles: fleet_places(&opts.profiles),
            regions: fleet_places(&opts.regions),
        });
        app.fleet_builder = Some(Box::new(ecsdeck::source::aws::contexts::AwsContexts {
            base: opts.clone(),
        }));
    }
    run_console(app, origin)
}

/// `--profile a --profile a` is one profile: each name once, in order.
fn fleet_places(given: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in given.iter().filter(|g| !g.is_empty()) {
        if !out.contains(g) {
            out.push(g.clone());
        }
    }
    out
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
/// full AWS refresh within the `--timeout` (default 30 s). ECS failing with
/// no data at all is exit 2; every other failed kind is one line on stderr
/// (and in the JSON `errors`).
fn snapshot_once(
    origin: Origin,
    at: Option<std::time::Duration>,
    timeout: Option<std::time::Duration>,
) -> Result<FleetSnapshot, String> {
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
            let limit = timeout.unwrap_or(std::time::Duration::from_secs(30));
            let snap = rt.block_on(async {
                let deadline = ecsdeck::source::aws::Deadline::after(limit);
                match ecsdeck::source::aws::within(Some(deadline), AwsFleet::connect(opts)).await {
                    Some(fleet) => Ok(fleet.fetch_by(Some(deadline)).await),
                    None => Err(deadline.missed("aws configuration")),
                }
            });
            // Pending SDK calls past the deadline are dropped, not awaited.
            rt.shutdown_background();
            let snap = snap?;
            if let Some(e) = ecs_unread(&snap) {
                return Err(e);
            }
            report_unread(&snap);
            Ok(snap)
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
            // The same start as a `:ctx` switch (see `AwsContexts`).
            Origin::Aws(opts) => ecsdeck::source::aws::contexts::start(opts).await,
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
            ExitCode::from(ui::signal_exit_code(sig))
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
    let lib = ecsdeck::runbook::Library::load(user_dirs);
    let out = ecsdeck::runbook::commands::offline(cmd, &lib, data);
    eprint!("{}", out.stderr);
    emit(&out.stdout);
    ExitCode::from(out.code)
}

/// Why nothing could be read at all: ECS failed in every place and no
/// service came back (a one-shot command then fails rather than report an
/// empty fleet as a fleet).
fn ecs_unread(snap: &FleetSnapshot) -> Option<String> {
    let ecs_failed = snap
        .unread_kinds()
        .any(|k| k.kind == ecsdeck::model::DataKind::Ecs);
    if !ecs_failed || !snap.services.is_empty() {
        return None;
    }
    let msgs: Vec<String> = snap
        .errors()
        .iter()
        .filter(|e| e.kind == "ecs")
        .map(|e| {
            let at = ecsdeck::status::error_place(e, snap.spans_accounts());
            format!("{} ({at})", e.message)
        })
        .collect();
    Some(ecsdeck::sanitize::sanitize(&msgs.join("; ")).into_owned())
}

/// One stderr line per failed (kind, account, region).
fn report_unread(snap: &FleetSnapshot) {
    for e in &snap.errors() {
        eprintln!(
            "ecsdeck: {} {} ({}): {}",
            if e.partial {
                "partly read:"
            } else {
                "not read:"
            },
            e.kind,
            ecsdeck::status::error_place(e, snap.spans_accounts()),
            ecsdeck::sanitize::sanitize(&e.message)
        );
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
    use ecsdeck::runbook::drive::{Answers, Backend, SimDriver, run_headless};
    use ecsdeck::runbook::engine::{Outcome, RunConfig, Runner, bind_params, collect_params};
    use ecsdeck::runbook::{Library, commands, journal};
    use ecsdeck::sanitize::sanitize;
    // Messages name runbook, answers and journal content: sanitized.
    let fail = |e: &dyn std::fmt::Display| fail(sanitize(&e.to_string()));
    let lib = Library::load(user_dirs);
    let Some(rb) = lib.get(&args.id).cloned() else {
        let ids: Vec<&str> = lib.runbooks.iter().map(|r| r.meta.id.as_str()).collect();
        return fail(&format!(
            "no runbook {:?} (have: {})",
            args.id,
            ids.join(", ")
        ));
    };
    let Some(data) = data else {
        return fail(&"no data directory for the run journal (pass --data-dir)");
    };
    let given = match collect_params(&args.params) {
        Ok(g) => g,
        Err(e) => return fail(&e),
    };
    let answers = match &args.answers {
        Some(f) => match commands::load_answers(f) {
            Ok(a) => a,
            Err(e) => return fail(&e),
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
            if !given.is_empty() {
                return fail(&"--resume takes the parameters from the journal; drop --param");
            }
            if let Err(e) = journal::check_run_id(run_id) {
                return fail(&e);
            }
            match Runner::resume(rb, cfg, run_id.clone()) {
                Ok(r) => {
                    // What the resume repaired or rebuilt: one line each.
                    for n in &r.resume_notes {
                        eprintln!("ecsdeck: {}", sanitize(n));
                    }
                    r
                }
                Err(e) => return fail(&e),
            }
        }
        None => {
            let params = match bind_params(&rb, &given) {
                Ok(p) => p,
                Err(e) => return fail(&e),
            };
            let id = journal::new_run_id(&rb.meta.id);
            match Runner::new(rb, params, cfg, id) {
                Ok(r) => r,
                Err(e) => return fail(&format!("{}: {e}", data.display())),
            }
        }
    };
    let mut backend: Box<dyn Backend> = match origin {
        Origin::Demo { scenario, seed, .. } => {
            let mut sim = Simulator::new(*scenario, seed);
            if args.resume.is_some() {
                let mut b = SimDriver::new(sim);
                let events = runner.journal.events.clone();
                if let Err(e) = b.replay(&events) {
                    return fail(&e);
                }
                Box::new(b)
            } else {
                if let Some(at) = args.at {
                    sim.run_until(at.as_millis() as i64);
                }
                Box::new(SimDriver::new(sim))
            }
        }
        Origin::Aws(opts) => {
            if args.at.is_some() {
                return fail(&"--at only applies to --demo");
            }
            let mut b = match ecsdeck::source::aws::actions::AwsBackend::connect(
                opts,
                &runner.param_regions(),
            ) {
                Ok(b) => b,
                Err(e) => return fail(&e),
            };
            // A run against a fleet that cannot be read at all fails at
            // once (exit 2), naming why, instead of polling its first wait
            // until the step's timeout; other failed kinds are named.
            let first = ecsdeck::calls::Backend::snapshot(&mut b);
            if let Some(e) = ecs_unread(&first) {
                return fail(&e);
            }
            report_unread(&first);
            Box::new(b)
        }
    };
    let text = args.format == Format::Text;
    if !write {
        let msg = "dry run: no change will be made (start ecsdeck with --write to act)";
        if text {
            emitln(msg);
        } else {
            eprintln!("ecsdeck: {msg}");
        }
    }
    let mut t0 = runner.journal.events.first().map(|e| e.ts);
    let mut progress = |e: &journal::Event| {
        if !text {
            return;
        }
        let t = *t0.get_or_insert(e.ts);
        if let Some(line) = commands::progress_line(e, t) {
            emitln(&line);
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
        Err(e) => return fail(&e),
    };
    match args.format {
        Format::Json => emitln(&safe_json::to_string_pretty(&summary).unwrap_or_default()),
        Format::Text => emit(&commands::summary_text(&summary)),
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
        Origin::Aws(o) => ecsdeck::source::aws::contexts::source_label(o),
    }
}
