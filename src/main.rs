//! ecsdeck binary: parse the command line, pick the source, hand over to the
//! console or to a one-shot command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use ecsdeck::cli::{Cli, Command, FailOn, Format, GlobalOpts, ReviewFormat};
use ecsdeck::config::Config;
use ecsdeck::model::FleetSnapshot;
use ecsdeck::model::rows;
use ecsdeck::source::aws::{AwsOptions, AwsSource};
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
        if g.region.len() > 1 {
            eprintln!(
                "ecsdeck: several --region values are not read yet; using {}",
                g.region[0]
            );
        }
        Origin::Aws(AwsOptions {
            profile: g.profile.clone().filter(|p| !p.is_empty()),
            region: g.region.first().cloned(),
            endpoint_url: g.endpoint_url.clone(),
            clusters: g.cluster.clone(),
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
                Format::Json => match serde_json::to_string_pretty(&rep) {
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
                    serde_json::to_string_pretty(&ecsdeck::review::report::json(&review, &snap))
                        .unwrap_or_default()
                        + "\n"
                }
                ReviewFormat::Sarif => {
                    serde_json::to_string_pretty(&ecsdeck::review::report::sarif(&review))
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
            let snap = rt.block_on(async { AwsSource::connect(opts).await.fetch().await });
            match snap.freshness.values().find_map(|f| f.error.clone()) {
                Some(e) if snap.services.is_empty() => Err(e),
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
                let src = AwsSource::connect(opts).await;
                ecsdeck::source::aws::spawn(src, std::time::Duration::from_secs(15))
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
