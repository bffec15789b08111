//! `ecsdeck runbook …` through the real binary: the public contracts (command
//! lines, JSON fields, exit codes) on the simulator.

use std::path::Path;
use std::process::{Command, Output};

mod catalogue;
mod resume;
mod runs;
mod twins;

fn ecsdeck(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run ecsdeck")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Run the binary, killed (and the test failed) if it takes over `secs`.
fn ecsdeck_within(data: &Path, args: &[&str], secs: u64) -> Output {
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ecsdeck");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ecsdeck {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

const AZ_ANSWERS: &str = "arm_phrase = \"IMPAIR us-east-1b\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\napproved_by = [\"alice\", \"bob\"]\n[steps.inject]\nconfirm = true\n[steps.observe]\nchoice = \"continue\"\nnote = \"no 5xx\"\n[steps.debrief]\nchoice = \"end\"\nnote = \"fine\"\n";

/// The AZ GameDay on the demo, answered from `answers`; extra args appended.
fn az_gameday(d: &Path, answers: &Path, extra: &[&str]) -> Output {
    let a = answers.to_str().unwrap();
    let mut args = vec![
        "--demo",
        "--write",
        "runbook",
        "run",
        "gameday-az-outage",
        "--format",
        "json",
        "--answers",
        a,
    ];
    args.extend_from_slice(extra);
    ecsdeck(d, &args)
}

const AZ_PARAMS: &[&str] = &[
    "--at",
    "5m",
    "--param",
    "cluster=prod",
    "--param",
    "service=api",
    "--param",
    "az=us-east-1b",
    "--param",
    "duration=3m",
];

fn write_runbook(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SCALE_RB: &str = "+++\nid = \"mine\"\ntitle = \"Mine\"\nkind = \"operational\"\n[params.cluster]\ntype = \"string\"\nrequired = true\n[params.service]\ntype = \"string\"\nrequired = true\n[params.n]\ntype = \"int\"\nrequired = true\n[safety]\narm_phrase = \"go\"\n+++\n\n## Approve {#approve}\n```checkpoint\nprompt = \"Scale?\"\nchoices = [\"continue\", \"abort\"]\n```\n\n## Scale {#scale}\n```action\nop = \"ecs.scale\"\ndesired = \"${param.n}\"\n```\n";
