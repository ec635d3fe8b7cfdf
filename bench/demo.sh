#!/usr/bin/env bash
# Benchmark `git agent demo` (a sandbox with three agents, the gate, a
# forecast, a landing with its check, removals) against
# bench/demo-in-git.sh, the same steps with plain git and no checking. The
# demo builds its own small repository, so the 100,000-file one is not used.
# usage: bench/demo.sh [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/git-agent-bench.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
cargo build --quiet --release --locked --manifest-path "$root/Cargo.toml"
export PATH="$root/target/release:$PATH"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/gitconfig" HOME="$work"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AGENT
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n' > "$work/gitconfig"
cd "$work"
hyperfine --warmup 3 --runs 20 --export-json "$work/demo.json" \
  -n 'git agent demo' 'git-agent-demo >/dev/null' \
  -n 'the same steps in plain git' "bash $root/bench/demo-in-git.sh"
python3 - "$work/demo.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, git = (x["median"] * 1000 for x in r)
print(f"median: git agent demo {ours:.1f} ms, plain git {git:.1f} ms, ratio {ours / git:.2f}x")
PY
