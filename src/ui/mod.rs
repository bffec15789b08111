//! The console: app state, event loop, panes, theme, keymap.

pub mod app;
pub mod commands;
pub mod ctx;
pub mod draw;
pub mod help;
pub mod keymap;
pub mod panes;
pub mod runbooks;
pub mod theme;
pub mod view;
pub mod widgets;

use std::time::{Duration, Instant};

use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};

use crate::source::{Control, SourceHandle};
use app::{App, Drawn, Effect};

/// At most ~30 frames per second, however fast updates arrive.
pub const FRAME: Duration = Duration::from_millis(33);
/// Updates applied per wake-up before drawing (drained in batches).
const DRAIN_BATCH: usize = 1024;

/// Why the console stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    InputClosed,
}

/// The exit status for a signal the console ended on: 128 + its number, as
/// a shell reports a process killed by it.
pub fn signal_exit_code(name: &str) -> u8 {
    let n = match name {
        "SIGHUP" => libc::SIGHUP,
        "SIGINT" => libc::SIGINT,
        "SIGQUIT" => libc::SIGQUIT,
        "SIGUSR1" => libc::SIGUSR1,
        "SIGUSR2" => libc::SIGUSR2,
        _ => libc::SIGTERM,
    };
    128 + n as u8
}

/// Give the terminal back to the shell: raw mode off, main screen, cursor shown.
fn release(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    ratatui::try_restore()?;
    terminal.show_cursor()
}

/// Take the terminal again after a stop (ours, `kill -STOP`, a `bg` that
/// stopped on output): raw mode — re-read, the shell may have changed the
/// modes meanwhile — alternate screen, and a full redraw.
fn reclaim(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    use ratatui::crossterm::{execute, terminal as ct};
    ct::disable_raw_mode()?;
    ct::enable_raw_mode()?;
    execute!(std::io::stdout(), ct::EnterAlternateScreen)?;
    terminal.hide_cursor()?;
    // Not `Terminal::clear`: it asks the terminal for the cursor position,
    // whose answer the input reader would swallow. A resize to the current
    // size (it may have changed meanwhile) clears and forgets the last frame.
    let size = terminal.size()?;
    terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
}

/// How a suspend was asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Ctrl-Z (a key in raw mode): stop the whole job, as the TTY driver
    /// would in cooked mode — `cargo run`, or a pipeline, stops with us.
    Job,
    /// SIGTSTP sent to this process: stop it alone.
    Process,
}

/// Suspend like any job: the terminal is given back first, the process
/// stops with SIGTSTP's default action, and on SIGCONT (`fg`) the console
/// takes the terminal again and redraws. In an orphaned process group
/// (no job-control shell could resume it) the kernel discards the stop, as
/// it does for a Ctrl-Z in cooked mode, and the console carries on.
fn suspend(terminal: &mut ratatui::DefaultTerminal, how: Stop) -> std::io::Result<()> {
    release(terminal)?;
    // SAFETY: sigaction/kill/raise with valid arguments; the previous
    // action (tokio's handler) is put back before anything else runs here.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGTSTP, &dfl, &mut old) == 0 {
            match how {
                // To our process group: on Linux it is delivered to this
                // thread before kill returns, so it stops here.
                Stop::Job => libc::kill(0, libc::SIGTSTP),
                // To this thread: raise returns only after the stop ended.
                Stop::Process => libc::raise(libc::SIGTSTP),
            };
            libc::sigaction(libc::SIGTSTP, &old, std::ptr::null_mut());
        }
    }
    reclaim(terminal)
}

/// Ctrl-Z, as the keymap (and so the help overlay) names it.
fn is_suspend_key(k: &KeyEvent) -> bool {
    keymap::lookup(keymap::Context::Global, k) == Some(keymap::Action::Suspend)
}

/// Run the console until the user quits or a signal arrives. The caller owns
/// terminal setup and restore (see `main`), so every exit path restores it.
///
/// Signals: TERM, HUP, INT, QUIT, USR1 and USR2 end the console as they
/// would end any process, but through the normal exit, so the terminal is
/// restored (exit status 128 + the signal, see [`signal_exit_code`]). TSTP
/// and Ctrl-Z suspend it with the terminal given back, CONT takes the
/// terminal again and redraws. PIPE is ignored (Rust's default): a write
/// to a closed output fails, and the console ends through the normal exit.
/// TTIN/TTOU keep their default: a console put in the background stops
/// when it touches the terminal, until `fg`.
pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App,
    mut source: SourceHandle,
) -> std::io::Result<Exit> {
    app.set_capabilities(source.capabilities);
    app.silent_after = (2 * source.heartbeat.as_secs()).max(5);
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;
    let mut sigusr1 = signal(SignalKind::user_defined1())?;
    let mut sigusr2 = signal(SignalKind::user_defined2())?;
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut sigcont = signal(SignalKind::from_raw(libc::SIGCONT))?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut dirty = true;
    let mut followed: Option<Option<crate::model::ServiceId>> = None;
    let mut last_draw = Instant::now() - FRAME;
    let mut last_update = Instant::now();
    let mut source_open = true;
    // `:ctx`: the switch under way and the task connecting its source.
    let mut switching: Option<(ctx::Pending, tokio::task::JoinHandle<SourceHandle>)> = None;
    let exit = loop {
        if dirty && last_draw.elapsed() >= FRAME {
            let mut drawn = Drawn::default();
            terminal.draw(|f| drawn = draw::frame(f, &app))?;
            app.remember(drawn);
            last_draw = Instant::now();
            dirty = false;
            // Test hook (debug builds only): prove the terminal survives a panic.
            if cfg!(debug_assertions) && std::env::var_os("ECSDECK_TEST_PANIC").is_some() {
                panic!("ECSDECK_TEST_PANIC: deliberate panic after the first frame");
            }
        }
        let frame_wait = FRAME.saturating_sub(last_draw.elapsed());
        let mut effects = Vec::new();
        tokio::select! {
            _ = sigterm.recv() => break Exit::Signal("SIGTERM"),
            _ = sighup.recv() => break Exit::Signal("SIGHUP"),
            _ = sigint.recv() => break Exit::Signal("SIGINT"),
            _ = sigquit.recv() => break Exit::Signal("SIGQUIT"),
            _ = sigusr1.recv() => break Exit::Signal("SIGUSR1"),
            _ = sigusr2.recv() => break Exit::Signal("SIGUSR2"),
            _ = sigtstp.recv() => {
                suspend(terminal, Stop::Process)?;
                dirty = true;
            }
            _ = sigcont.recv() => {
                reclaim(terminal)?;
                dirty = true;
            }
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release && is_suspend_key(&k) => {
                    suspend(terminal, Stop::Job)?;
                    dirty = true;
                }
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    effects = app.on_key(k);
                    dirty = true;
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break Exit::InputClosed,
            },
            upd = source.updates.recv(), if source_open => match upd {
                Some(u) => {
                    app.apply(u);
                    for _ in 0..DRAIN_BATCH {
                        match source.updates.try_recv() {
                            Ok(u) => app.apply(u),
                            Err(_) => break,
                        }
                    }
                    last_update = Instant::now();
                    app.silent_secs = 0;
                    effects.extend(app.drive_runbook());
                    dirty = true;
                }
                None => {
                    source_open = false;
                    app.store.warn("the data source stopped; data shown is frozen".into());
                    dirty = true;
                }
            },
            _ = tick.tick() => {
                effects.extend(app.drive_runbook());
                if app.runbooks.running().is_some() {
                    dirty = true;
                }
                let silent = last_update.elapsed().as_secs();
                let shown = if silent >= 3 && !app.paused { silent } else { 0 };
                if shown != app.silent_secs {
                    app.silent_secs = shown;
                    dirty = true;
                }
            }
            _ = tokio::time::sleep(frame_wait), if dirty => {}
            next = async {
                match switching.as_mut() {
                    Some((_, task)) => task.await,
                    None => std::future::pending().await,
                }
            }, if switching.is_some() => {
                if let Some((p, _)) = switching.take()
                    && ctx::connected(&mut app, &mut source, p, next)
                {
                    followed = None;
                    source_open = true;
                    last_update = Instant::now();
                }
                dirty = true;
            }
        }
        // The logs pane's scope: AWS tails only what is looked at.
        let scope = app.log_scope();
        if followed.as_ref() != Some(&scope) {
            let _ = source.control.try_send(Control::FollowLogs(scope.clone()));
            followed = Some(scope);
        }
        for e in effects {
            match e {
                Effect::Control(c) => {
                    if c == Control::Pause(false) {
                        // Silence is counted from the resume, not the pause.
                        last_update = Instant::now();
                    }
                    if let Err(e) = source.control.try_send(c) {
                        // A runbook call is kept and offered again, never lost.
                        let now = app.source_now();
                        app.runbooks.send_failed(e, now);
                    }
                }
                Effect::Switch(set) => {
                    // The new source connects off the event loop (the SDK
                    // reads the AWS files and resolves the config there);
                    // the old one is read until it is ready. A newer switch
                    // replaces one under way.
                    if let Some((p, connect)) = ctx::begin_switch(&mut app, set)
                        && let Some((_, old)) = switching.replace((p, tokio::spawn(connect)))
                    {
                        old.abort();
                    }
                    // Connecting, or refused with one line: either is shown.
                    dirty = true;
                }
            }
        }
        if app.quit {
            break Exit::Quit;
        }
    };
    if let Some((_, task)) = switching {
        task.abort();
    }
    let _ = source.control.try_send(Control::Shutdown);
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_exit_codes_are_128_plus_the_signal() {
        let codes: Vec<u8> = [
            "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM",
        ]
        .iter()
        .map(|s| signal_exit_code(s))
        .collect();
        assert_eq!(codes, [129, 130, 131, 138, 140, 143]);
    }

    #[test]
    fn ctrl_z_is_the_suspend_key() {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        let k = |c, m| KeyEvent::new(KeyCode::Char(c), m);
        assert!(is_suspend_key(&k('z', KeyModifiers::CONTROL)));
        assert!(!is_suspend_key(&k('z', KeyModifiers::NONE)));
        assert!(!is_suspend_key(&k('c', KeyModifiers::CONTROL)));
    }
}
