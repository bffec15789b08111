//! End to end: the real binary in tmux. Open, drill into a service, filter,
//! quit; the terminal is restored on quit, SIGTERM, SIGHUP and panic.
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
    assert_eq!(t.flag("alternate_on"), "1");
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
    t.wait_for("Services");
    t.keys(&["q"]);
    let s = t.wait_for("EXIT=0");
    assert!(s.contains("no AWS credentials found"), "{s}");
}
