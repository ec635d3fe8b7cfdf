#!/usr/bin/env bash
# The long concurrency soak: the test `soak::soak_concurrent_commands_lose_nothing`
# (tests/cli/soak.rs) run for SECONDS instead of the 10 s `cargo test`
# gives it: 4 processes at a time over 8 agents add, commit (through exec,
# the gate on), land, sync, rm --force, restore, list, forecast conflicts
# and edit scopes in random order; then every commit made must be
# reachable, the registry whole and equal to the model, `git fsck --strict`
# clean, `doctor` clean and every refusal a documented reason.
# usage: bench/soak.sh [SECONDS [SEED]]   (default 60 s, a fresh seed)
# Prints the summary BENCHMARKS.md records, with every anomaly (a race that
# ended in an error or a false refusal, losing nothing); exits non-zero if
# the soak fails. GIT_AGENT_SOAK_STRICT=1 makes anomalies fail it too.
set -euo pipefail
cd "$(dirname "$0")/.."
export GIT_AGENT_SOAK_SECONDS=${1:-60}
if [[ -n ${2:-} ]]; then export GIT_AGENT_SOAK_SEED=$2; fi
cargo test --locked --test cli soak::soak_concurrent_commands_lose_nothing \
  -- --exact --nocapture 2>&1 |
  grep -vE '^\s+[0-9]+: |^\s+at |^\s+Compiling|^\s+Finished|^\s+Running|^running|^$'
