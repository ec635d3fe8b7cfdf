#!/usr/bin/env bash
# Benchmark `git agent land --no-checks` against `git merge --no-ff` of the
# same branch in the main worktree, on the 100,000-file repository from
# ../shared/bench/make-big-repo: a clean agent branch of 20 commits touching
# 500 files.
# usage: bench/land.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

agent_dir="$work/big.agents/landing"
if [ ! -d "$agent_dir" ]; then
  git-agent-add landing --scope drivers/ >/dev/null 2>&1
  (
    cd "$agent_dir"
    git ls-files drivers | awk 'NR % 12 == 0 && n < 500 { print; n++ }' > "$work/land-files"
    for c in $(seq 0 19); do
      sed -n "$((c * 25 + 1)),$((c * 25 + 25))p" "$work/land-files" | while read -r f; do
        echo "// landing commit $c" >> "$f"
      done
      git commit -q --no-verify -am "landing change $c"
    done
  )
fi
echo "branch: $(git rev-list --count main..agent/landing) commits, $(git diff --name-only main...agent/landing | wc -l) files"
orig=$(git rev-parse main)
git branch -f bench-land agent/landing
reset="git reset -q --hard $orig"
hyperfine --runs 7 --export-json "$work/land.json" \
  --prepare "$reset" -n 'git merge --no-ff' "git merge -q --no-ff --no-edit bench-land" \
  --prepare "$reset" -n 'git agent land --no-checks' "git-agent land landing --no-checks"
eval "$reset"
git branch -D bench-land >/dev/null

python3 - "$work" <<'PY'
import json, sys
results = json.load(open(f"{sys.argv[1]}/land.json"))["results"]
git, ours = results
print(f"land: git median {git['median']*1000:.1f} ms, git-agent median {ours['median']*1000:.1f} ms, ratio {ours['median']/git['median']:.2f}x")
PY
