#!/usr/bin/env bash
# Benchmark the ref guard (git's reference-transaction hook): the time per
# `git commit` with and without it,
#   1. outside an agent's context (the main worktree, GIT_AGENT unset): the
#      hook's shell block must exit without starting the engine;
#   2. in an agent's context (its worktree, GIT_AGENT set): the engine runs
#      for each `prepared` transaction.
# Only the hook differs between the two commands of a pair: each commit
# names its hooks directory with -c core.hooksPath, an empty one or one
# holding only the ref guard (no pre-commit gate, so the gate's cost is not
# in the figures). A commit runs two transactions (HEAD with its branch,
# then AUTO_MERGE), so the hook runs four times per commit.
# A small repository is enough: the hook's cost does not depend on the
# tree's size, and a small commit keeps the noise below the figures.
# usage: bench/ref-guard.sh [WORKDIR]   (the JSON goes to WORKDIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/git-agent-bench.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
cargo build --quiet --release --locked --manifest-path "$root/Cargo.toml"
export PATH="$root/target/release:$PATH"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/gitconfig" HOME="$work"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AGENT
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n' > "$work/gitconfig"

repo="$work/small"
if [ ! -d "$repo" ]; then
  git init -q "$repo"
  (cd "$repo" && mkdir docs src && for i in $(seq 1 200); do echo "$i" > "src/f$i.rs"; done &&
    echo "# d" > docs/guide.md && git add -A && git commit -qm init &&
    git agent hooks install >/dev/null && git agent add bench --scope docs/ >/dev/null)
fi
hooks="$repo/.git/hooks"
mkdir -p "$work/no-hooks" "$work/guard-only" "$work/empty-hook"
cp "$hooks/reference-transaction" "$work/guard-only/"
# What any reference-transaction hook costs: git starting a shell 4 times.
printf '#!/bin/sh\nexit 0\n' > "$work/empty-hook/reference-transaction"
chmod +x "$work/empty-hook/reference-transaction"
agent="$work/small.agents/bench"

commit() { echo "git -c core.hooksPath=$work/$1 commit -q --allow-empty -m bench"; }
cd "$repo"
hyperfine -N --warmup 10 --runs 200 \
  --export-json "$work/ref-guard-outside.json" \
  -n "outside, no hook" "$(commit no-hooks)" \
  -n "outside, ref guard" "$(commit guard-only)" \
  -n "outside, empty hook" "$(commit empty-hook)"
cd "$agent"
GIT_AGENT=bench hyperfine -N --warmup 10 --runs 200 \
  --export-json "$work/ref-guard-agent.json" \
  -n "agent, no hook" "$(commit no-hooks)" \
  -n "agent, ref guard" "$(commit guard-only)" \
  -n "agent, empty hook" "$(commit empty-hook)"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for name in ("outside", "agent"):
    r = json.load(open(f"{work}/ref-guard-{name}.json"))["results"]
    a, b, e = (x["median"] * 1000 for x in r)
    print(f"{name}: no hook {a:.2f} ms, ref guard {b:.2f} ms (+{b - a:.2f}), "
          f"empty hook {e:.2f} ms (+{e - a:.2f}); the guard over an empty hook: {b - e:+.2f} ms")
PY
