//! End to end: the real binary in tmux. Open, drill into a service, filter,
//! quit; the terminal is restored on quit, SIGTERM, SIGHUP, SIGQUIT,
//! SIGUSR1, SIGUSR2 and panic; Ctrl-Z and SIGTSTP suspend with the shell's
//! screen back, `fg` redraws.
//! Needs tmux (scripts/test.sh installs it).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `ecsdeck ARGS` in a detached session of `w`x`h`; the shell
    /// prints `EXIT=<code>` when it ends and keeps the pane open.
    fn start(args: &str, w: u16, h: u16, env: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let data = dir.path().join("data");
        let cmd = format!(
            "{env} {} {args} --data-dir {}; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_ecsdeck"),
            data.display()
        );
        let st = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .arg(cmd)
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(st.success());
        Tmux { socket, _dir: dir }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {needle:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait until a pane flag reads `want` (the screen and the terminal
    /// modes are written in separate steps: a capture can fall between).
    fn wait_flag(&self, name: &str, want: &str) -> String {
        let start = Instant::now();
        loop {
            let v = self.flag(name);
            if v == want || start.elapsed() > Duration::from_secs(10) {
                return v;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn flag(&self, name: &str) -> String {
        self.tmux(&["display", "-p", "-t", "t", &format!("#{{{name}}}")])
            .trim()
            .to_string()
    }

    /// The ecsdeck process: the pane shell's child.
    fn app_pid(&self) -> u32 {
        let shell: u32 = self.flag("pane_pid").parse().unwrap();
        let start = Instant::now();
        loop {
            let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
                .unwrap_or_default();
            if let Some(pid) = children.split_whitespace().next() {
                return pid.parse().unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no child of the pane shell"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// After the app ended: the normal screen is back and the cursor visible.
    fn assert_restored(&self, exit: &str) {
        let s = self.wait_for(&format!("EXIT={exit}"));
        assert_eq!(
            self.flag("alternate_on"),
            "0",
            "still in the alternate screen:\n{s}"
        );
        assert_eq!(self.flag("cursor_flag"), "1", "cursor still hidden");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

#[test]
fn open_drill_filter_quit() {
    let t = Tmux::start("--demo --scenario az-outage --speed 20", 160, 48, "");
    let s = t.wait_for("Services");
    assert!(s.contains("TASKS PER AZ"), "{s}");
    assert_eq!(t.wait_flag("alternate_on", "1"), "1");
    t.keys(&["Enter"]);
    t.wait_for("Deployments & scaling");
    t.wait_for("Tasks & targets by AZ");
    t.keys(&["Escape"]);
    t.wait_for("TASKS PER AZ");
    t.keys(&["/", "w", "e", "b", "Enter"]);
    let s = t.wait_for("/web");
    assert!(!s.contains("no service matches"), "{s}");
    t.keys(&["?"]);
    t.wait_for("Help");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.assert_restored("0");
}

#[test]
fn compact_terminal_uses_tabs() {
    let t = Tmux::start("--demo --scenario steady", 80, 24, "");
    let s = t.wait_for(" Services │ Alarms │ Timeline │ Logs");
    assert!(s.contains("D/R/P"), "{s}");
    t.keys(&["Tab"]);
    t.wait_for("in ALARM");
    t.keys(&[":", "q", "Enter"]);
    t.assert_restored("0");
}

#[test]
fn commands_complete_with_tab_and_open_the_runbook_dialogs_keys() {
    let t = Tmux::start("--demo --scenario steady", 80, 24, "");
    t.wait_for(" Services │ Alarms │ Timeline │ Logs");
    t.keys(&[":", "r", "u"]);
    t.wait_for("Tab complete · runbooks");
    t.keys(&["Tab"]);
    t.wait_for(":runbooks█");
    t.keys(&["Enter"]);
    // The runbook list's keys come from the keymap.
    t.wait_for("Enter start / resume");
    t.keys(&[":", "q", "Enter"]);
    t.assert_restored("0");
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::start("--demo", 120, 40, "");
    t.wait_for("Services");
    let pid = t.app_pid();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    t.assert_restored("143");
}

#[test]
fn sighup_restores_the_terminal() {
    let t = Tmux::start("--demo", 120, 40, "");
    t.wait_for("Services");
    let pid = t.app_pid();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    t.assert_restored("129");
}

#[test]
fn panic_restores_the_terminal() {
    // Debug builds only: ECSDECK_TEST_PANIC makes the console panic after its first frame.
    let t = Tmux::start("--demo", 120, 40, "RUST_BACKTRACE=0 ECSDECK_TEST_PANIC=1");
    let s = t.wait_for("EXIT=");
    assert!(
        s.contains("panicked") || s.contains("ECSDECK_TEST_PANIC"),
        "{s}"
    );
    assert_eq!(t.flag("alternate_on"), "0");
    assert_eq!(t.flag("cursor_flag"), "1");
}

#[test]
fn no_credentials_opens_the_demo_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = format!(
        "env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_ENDPOINT_URL HOME={} ",
        dir.path().display()
    );
    let t = Tmux::start("", 120, 40, &env);
    // Said on screen, in the status line, for the whole session.
    let s = t.wait_for("DEMO: no AWS credentials found");
    assert!(s.contains("Services"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// `kill -SIG` the console and wait for the shell's `EXIT=`.
fn kill_and_restore(sig: &str) {
    let t = Tmux::start("--demo", 120, 40, "");
    t.wait_for("Services");
    assert_eq!(t.wait_flag("alternate_on", "1"), "1");
    assert_eq!(
        t.wait_flag("cursor_flag", "0"),
        "0",
        "the console hides the cursor"
    );
    let pid = t.app_pid();
    assert!(
        Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let s = t.wait_for("EXIT=");
    // Ended by the console, not by the signal's default action (which
    // would leave the alternate screen on and, for QUIT, dump core).
    assert!(!s.contains("EXIT=0"), "{s}");
    assert_eq!(
        t.flag("alternate_on"),
        "0",
        "{sig}: still in the alternate screen:\n{s}"
    );
    assert_eq!(t.flag("cursor_flag"), "1", "{sig}: cursor still hidden");
}

#[test]
fn sigquit_restores_the_terminal() {
    kill_and_restore("QUIT");
}

#[test]
fn sigusr1_and_sigusr2_restore_the_terminal() {
    kill_and_restore("USR1");
    kill_and_restore("USR2");
}

/// An interactive shell with job control in a tmux pane.
fn job_control_shell() -> Tmux {
    let t = Tmux::start_raw("env PS1='$ ' bash --norc --noprofile -i", 120, 40);
    t.wait_for("$");
    t
}

impl Tmux {
    /// Like [`Tmux::start`], but the pane runs `cmd` as it is.
    fn start_raw(cmd: &str, w: u16, h: u16) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let st = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .args(["-x", &w.to_string(), "-y", &h.to_string()])
            .arg(cmd)
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(st.success());
        Tmux { socket, _dir: dir }
    }

    fn type_line(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }

    fn wait_until(&self, what: &str, ok: impl Fn(&Tmux) -> bool) {
        let start = Instant::now();
        while !ok(self) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Ctrl-Z and `kill -TSTP` stop the console like any job, with the shell's
/// screen and cursor back; `fg` brings the console back, redrawn.
#[test]
fn ctrl_z_and_sigtstp_suspend_with_the_terminal_restored_and_fg_redraws() {
    let t = job_control_shell();
    let data = t._dir.path().join("data");
    t.type_line(&format!(
        "{} --demo --data-dir {}",
        env!("CARGO_BIN_EXE_ecsdeck"),
        data.display()
    ));
    t.wait_for("TASKS PER AZ");
    let pid = t.app_pid();
    for how in ["C-z", "TSTP"] {
        if how == "C-z" {
            t.keys(&["C-z"]);
        } else {
            assert!(
                Command::new("kill")
                    .args(["-TSTP", &pid.to_string()])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let s = t.wait_for("Stopped");
        t.wait_until("the main screen", |t| t.flag("alternate_on") == "0");
        assert_eq!(t.flag("cursor_flag"), "1", "{how}: cursor hidden:\n{s}");
        // A usable shell: it runs a command.
        let marker = format!("shell-is-back-after-{how}");
        t.keys(&["C-l"]);
        t.type_line(&format!("echo {marker}"));
        t.wait_for(&format!("\n{marker}"));
        t.type_line("fg");
        t.wait_until("the console again", |t| t.flag("alternate_on") == "1");
        // Redrawn in full (the shell's lines are gone), cursor hidden again.
        let s = t.wait_for("TASKS PER AZ");
        assert!(!s.contains(&marker), "{how}: not redrawn:\n{s}");
        t.wait_until("the cursor hidden", |t| t.flag("cursor_flag") == "0");
    }
    t.keys(&["q"]);
    t.wait_until("the shell", |t| t.flag("alternate_on") == "0");
    t.type_line("echo EXIT=$?");
    t.assert_restored("0");
}
