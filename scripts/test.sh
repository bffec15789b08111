#!/usr/bin/env bash
# Runs every ecsdeck test from a fresh clone: formatting, lints, unit and
# snapshot tests, the status CLI tests, the tmux end-to-end tests, and one
# smoke pass of each benchmark. Installs what it needs (tmux) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tmux >/dev/null 2>&1; then
  echo "== installing tmux (end-to-end tests)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq tmux >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq tmux >/dev/null
  fi
fi

export CARGO_TERM_COLOR=never
# Snapshots never update themselves here: a changed screen fails the run.
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test (one profile: test/dev)"
cargo test --locked --all-targets
