//! The console: app state, event loop, panes, theme, keymap.

pub mod app;
pub mod draw;
pub mod keymap;
pub mod panes;
pub mod runbooks;
pub mod theme;

use std::time::{Duration, Instant};

use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use tokio::signal::unix::{SignalKind, signal};

use crate::source::{Control, SourceHandle};
use app::{App, Effect};

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

/// Run the console until the user quits or a signal arrives. The caller owns
/// terminal setup and restore (see `main`), so every exit path restores it.
pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App,
    mut source: SourceHandle,
) -> std::io::Result<Exit> {
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut dirty = true;
    let mut followed: Option<Option<String>> = None;
    let mut last_draw = Instant::now() - FRAME;
    let mut last_update = Instant::now();
    let mut source_open = true;
    let exit = loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| draw::draw(f, &app))?;
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
            ev = events.next() => match ev {
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
                    let _ = source.control.try_send(c);
                }
            }
        }
        if app.quit {
            break Exit::Quit;
        }
    };
    let _ = source.control.try_send(Control::Shutdown);
    Ok(exit)
}
