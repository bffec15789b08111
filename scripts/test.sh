#!/usr/bin/env bash
# Runs every ecsdeck test from a fresh clone: formatting, lints, unit and
# snapshot tests, the status CLI tests, the tmux end-to-end tests, the AWS
# source against moto, and one smoke pass of each benchmark. Installs what it
# needs (tmux; moto into .venv) when missing.
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

# moto (a real AWS API emulator) for the AWS source tests, in a local venv.
# cbor2: the test-only CloudWatch shim (tests/moto_shim.py) speaks the SDK's
# RPC v2 CBOR to moto's JSON protocol.
if [ ! -x .venv/bin/moto_server ] || ! .venv/bin/python -c "import cbor2" 2>/dev/null; then
  echo "== installing moto into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q "moto[server]==5.2.5" "cbor2==6.3.0"
fi
export ECSDECK_MOTO_SERVER="$PWD/.venv/bin/moto_server"
export ECSDECK_REQUIRE_MOTO=1

export CARGO_TERM_COLOR=never
# Snapshots never update themselves here: a changed screen fails the run.
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test (one profile: test/dev)"
cargo test --locked --all-targets
