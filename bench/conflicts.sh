#!/usr/bin/env bash
# Benchmark `git agent conflicts` (55 merges: 10 agents against their base,
# and the 45 pairs of agents) against `git merge-tree --write-tree` of the
# same pairs one after another, on the 100,000-file repository from
# ../shared/bench/make-big-repo. Each agent has committed changes to 100
# files; neighbours (conf0 and conf1, ...) change 10 of the same files
# differently, so 10 pairs conflict.
# usage: bench/conflicts.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

git ls-files > "$work/all-files"
# An earlier run may have been interrupted halfway through an `add`.
git-agent-doctor --fix >/dev/null 2>&1 || true
for i in $(seq 0 9); do
  d="$work/big.agents/conf$i"
  [ "$(git rev-list --count "main..agent/conf$i" 2>/dev/null)" = 1 ] && continue
  [ -d "$d" ] || git-agent-add "conf$i" --scope "$(sed -n "$((i * 6250 + 1))p" "$work/all-files" | cut -d/ -f1)/" >/dev/null 2>&1
  prev=$(((i + 9) % 10))
  {
    awk -v k="$((500 + i))" 'NR % 1000 == k && n < 80 { print; n++ }' "$work/all-files"
    awk -v k="$((900 + i))" 'NR % 1000 == k && n < 10 { print; n++ }' "$work/all-files"
    awk -v k="$((900 + prev))" 'NR % 1000 == k && n < 10 { print; n++ }' "$work/all-files"
  } > "$work/conf$i-files"
  (
    cd "$d"
    while read -r f; do echo "// conf$i" >> "$f"; done < "$work/conf$i-files"
    git commit -q --no-verify -am "conf$i: 100 files"
  )
done

# The same 55 merges with git: each agent with main, then every pair.
script="$work/merge-tree-all.sh"
{
  echo "set +e"
  for i in $(seq 0 9); do echo "git merge-tree --write-tree main agent/conf$i >/dev/null"; done
  for i in $(seq 0 9); do
    for j in $(seq $((i + 1)) 9); do echo "git merge-tree --write-tree agent/conf$i agent/conf$j >/dev/null"; done
  done
  echo "exit 0"
} > "$script"
echo "merges: $(grep -c merge-tree "$script")"
cache="$(git rev-parse --git-common-dir)/git-agent/conflicts-cache.json"
hyperfine --warmup 1 --runs 10 --export-json "$work/conflicts.json" \
  --prepare true -n 'git merge-tree --write-tree x55, one after another' "bash $script" \
  --prepare "rm -f $cache" -n 'git agent conflicts (no cache)' 'git-agent-conflicts >/dev/null || true' \
  --prepare true -n 'git agent conflicts (cached merges)' 'git-agent-conflicts >/dev/null || true'

python3 - "$work" <<'PY'
import json, sys
results = json.load(open(f"{sys.argv[1]}/conflicts.json"))["results"]
git = results[0]
for ours in results[1:]:
    print(f"conflicts: {ours['command']}: median {ours['median']*1000:.1f} ms; git median {git['median']*1000:.1f} ms; ratio {ours['median']/git['median']:.2f}x")
PY
