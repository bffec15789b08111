//! A mutation fuzzer for the runbook parser (and the runner behind it), on
//! stable Rust: it mutates the shipped runbooks with a seeded RNG — byte
//! flips, deleted/duplicated/swapped lines, spliced format tokens, escape
//! sequences, truncation — and asserts that parsing never panics, that every
//! error names the file, and that a runbook that parses can be driven on the
//! simulator without a panic.
//!
//! Time-bounded: `ECSDECK_FUZZ_SECS` (default 10 s; CI uses the default),
//! `ECSDECK_FUZZ_SEED` to replay a run. The seed is printed on failure.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecsdeck::runbook::drive::{Answers, SimDriver, run_headless};
use ecsdeck::runbook::engine::{RunConfig, Runner, bind_params};
use ecsdeck::runbook::{Block, EMBEDDED, ParamType, parse};
use ecsdeck::source::sim::{Simulator, scenario::Scenario};
use rand::{Rng, SeedableRng};

const TOKENS: &[&str] = &[
    "+++\n",
    "```verify\n",
    "```action\n",
    "```checkpoint\n",
    "```\n",
    "## Step {#s}\n",
    "## \n",
    "op = \"ecs.scale\"\n",
    "op = \"ecs.stop_tasks\"\n",
    "desired = \"${param.target}\"\n",
    "${param.",
    "${save.before.",
    "}",
    "[[all]]\n",
    "timeout = \"1s\"\n",
    "hold = \"${param.duration}\"\n",
    "on_timeout = \"goto:",
    "next = \"",
    "when = { ref = \"before.x\", op = \"exists\" }\n",
    "select = \"deployments[999].x\"\n",
    "agg = \"distinct\"\n",
    "value = []\n",
    "choices = []\n",
    "\u{0}",
    "\x1b[31m",
    "\u{202e}",
    "\r\n",
    "'''\n",
    "\"\"\"",
    "[params.x]\ntype = \"int\"\nmin = 9\nmax = 1\n",
    "```checkpiont\n",
    "```note\n",
    "```sh\n",
    "\u{feff}",
    "desired = -1\n",
    "max_scale_factor = -2\n",
    "arm_phrase = \"\"\n",
    "approvers = 2\n",
    "${param.target",
];

fn mutate(rng: &mut rand_chacha::ChaCha8Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..rng.random_range(1..6) {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..7) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
            3 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                lines.insert(i, t.trim_end_matches('\n').to_string());
            }
            4 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                let l = &mut lines[i];
                let at = (0..=l.len())
                    .filter(|k| l.is_char_boundary(*k))
                    .nth(rng.random_range(0..=l.chars().count()))
                    .unwrap_or(0);
                l.insert_str(at, t);
            }
            5 => {
                let mut bytes = lines[i].clone().into_bytes();
                if !bytes.is_empty() {
                    let k = rng.random_range(0..bytes.len());
                    bytes[k] = rng.random_range(0..128u8);
                }
                lines[i] = String::from_utf8_lossy(&bytes).into_owned();
            }
            _ => {
                let keep = rng.random_range(0..=lines.len());
                lines.truncate(keep);
            }
        }
    }
    lines.join("\n")
}

#[test]
fn runbook_parser_and_runner_survive_mutations() {
    let secs: u64 = std::env::var("ECSDECK_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("ECSDECK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let scenario = Scenario::builtin("steady").unwrap();
    let (mut n, mut parsed, mut driven) = (0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        n += 1;
        let (_, base) = EMBEDDED[rng.random_range(0..EMBEDDED.len())];
        let text = mutate(&mut rng, base);
        let res = std::panic::catch_unwind(|| parse(&text, "fuzz.runbook.md"));
        let Ok(res) = res else {
            panic!("parse panicked (seed {seed}, iteration {n}) on:\n{text}");
        };
        match res {
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.starts_with("fuzz.runbook.md"),
                    "error without the file name: {e}"
                );
                // One line, and never a Rust Debug dump of a block.
                assert!(
                    !e.contains("Some(String(") && !e.contains("common: Common"),
                    "a Debug struct in the error (seed {seed}, iteration {n}): {e}"
                );
            }
            Ok(rb) => {
                parsed += 1;
                // A runbook that parses arms what it changes.
                let mutates = rb
                    .steps
                    .iter()
                    .any(|s| matches!(&s.block, Block::Action(a) if a.op.mutates()));
                assert!(
                    !mutates
                        || rb
                            .meta
                            .safety
                            .arm_phrase
                            .as_deref()
                            .is_some_and(|p| !p.trim().is_empty()),
                    "a mutating runbook without an arm phrase parsed (seed {seed}, iteration {n}):\n{text}"
                );
                // Every fifth runbook that parses is driven for a while.
                if parsed % 5 != 0 {
                    continue;
                }
                let given: BTreeMap<String, String> = rb
                    .meta
                    .params
                    .iter()
                    .map(|(k, p)| {
                        let v = match (k.as_str(), p.ty) {
                            ("cluster", _) => "prod",
                            ("service", _) => "api",
                            (_, ParamType::Int) => "3",
                            (_, ParamType::Duration) => "30s",
                            (_, ParamType::Bool) => "true",
                            _ => "us-east-1a",
                        };
                        (k.clone(), v.to_string())
                    })
                    .collect();
                let Ok(params) = bind_params(&rb, &given) else {
                    continue;
                };
                let cfg = RunConfig {
                    write: rng.random_bool(0.5),
                    operator: "fuzz".into(),
                    review: Default::default(),
                    data_dir: None,
                    source: "demo:fuzz".into(),
                };
                let mut runner = Runner::new(rb, params, cfg, "fuzz".into()).unwrap();
                let mut sim = Simulator::new(scenario.clone(), None);
                sim.run_until(120_000);
                let mut backend = SimDriver::new(sim);
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_headless(
                        &mut runner,
                        &mut backend,
                        &Answers::default(),
                        true,
                        &mut |_| {},
                    )
                }));
                assert!(
                    out.is_ok(),
                    "the runner panicked (seed {seed}, iteration {n}) on:\n{text}"
                );
                driven += 1;
            }
        }
    }
    eprintln!(
        "fuzz: {n} mutants, {parsed} parsed, {driven} driven to the end (seed {seed}, {secs} s)"
    );
    assert!(n > 100, "too few iterations to mean anything: {n}");
}
