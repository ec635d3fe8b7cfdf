#!/usr/bin/env bash
# Benchmark `git agent unland --no-checks` against `git revert -m 1` of the
# same merge landing in the main worktree, and `unland --hard` against
# `git reset --keep HEAD^`, on the 100,000-file repository from
# ../shared/bench/make-big-repo: an agent branch of 20 commits touching 500
# files, landed by merge.
# usage: bench/unland.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

agent_dir="$work/big.agents/unlanding"
if [ ! -d "$agent_dir" ]; then
  git-agent-add unlanding --scope drivers/ >/dev/null 2>&1
  (
    cd "$agent_dir"
    git ls-files drivers | awk 'NR % 12 == 0 && n < 500 { print; n++ }' > "$work/unland-files"
    for c in $(seq 0 19); do
      sed -n "$((c * 25 + 1)),$((c * 25 + 25))p" "$work/unland-files" | while read -r f; do
        echo "// unlanding commit $c" >> "$f"
      done
      git commit -q --no-verify -am "unlanding change $c"
    done
  )
fi
orig=$(git rev-parse main)
work_tip=$(git rev-parse agent/unlanding)
git-agent land unlanding --no-checks >/dev/null
landed=$(git rev-parse main)
echo "landing: $(git diff --name-only "$orig" "$landed" | wc -l) files"
# Both the base and the agent's branch (which unland moves) go back.
reset="git reset -q --hard $landed && git -C $agent_dir reset -q --hard $work_tip"
hyperfine --runs 7 --export-json "$work/unland.json" \
  --prepare "$reset" -n 'git revert -m 1' "git revert -m 1 --no-edit HEAD" \
  --prepare "$reset" -n 'git agent unland --no-checks' "git-agent unland unlanding --no-checks" \
  --prepare "$reset" -n 'git reset --keep HEAD^' "git reset -q --keep HEAD^" \
  --prepare "$reset" -n 'git agent unland --hard' "git-agent unland unlanding --hard"
git reset -q --hard "$orig"
git -C "$agent_dir" reset -q --hard "$work_tip"

python3 - "$work" <<'PY'
import json, sys
results = json.load(open(f"{sys.argv[1]}/unland.json"))["results"]
revert, ours, reset, hard = results
for name, git, mine in (("revert", revert, ours), ("hard", reset, hard)):
    print(f"unland {name}: git median {git['median']*1000:.1f} ms, git-agent median {mine['median']*1000:.1f} ms, ratio {mine['median']/git['median']:.2f}x")
PY
