#!/usr/bin/env bash
# Benchmark the gate against git doing the same job, on the 100,000-file
# repository from ../shared/bench/make-big-repo:
#   1. `git-agent scope check --staged`, as the pre-commit hook runs it,
#      with 1,000 staged files in an agent worktree, against
#      `git diff --cached --name-only`; also through the `git-agent-scope`
#      launcher, as hooks installed by older versions run it;
#   2. `git-agent scope check --range` over a 200-commit agent branch, against
#      `git log --name-only base..branch`.
# usage: bench/scope-check.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it)
# Prints hyperfine's tables and the median ratios; the JSON goes to WORKDIR.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"


# An agent worktree with 1,000 staged files spread over the whole tree (every
# 100th file), so the staged change touches many directories.
if [ ! -d "$work/big.agents/staged" ]; then
  git-agent-add staged --scope 'drivers/' --scope 'fs/' --scope '*.md' >/dev/null
  (
    cd "$work/big.agents/staged"
    git ls-files | awk 'NR % 100 == 1' > "$work/staged-files"
    while read -r f; do echo "// staged" >> "$f"; done < "$work/staged-files"
    git add --pathspec-from-file="$work/staged-files"
  )
fi
staged_dir="$work/big.agents/staged"
echo "staged: $(git -C "$staged_dir" diff --cached --name-only | wc -l) files"

# A 200-commit agent branch, each commit changing 5 files, written with
# fast-import on top of main.
if ! git rev-parse -q --verify refs/heads/agent/range >/dev/null; then
  git-agent-add range --scope '**' --path "$work/range-worktree" >/dev/null
  python3 - "$repo" <<'PY'
import subprocess, sys
repo = sys.argv[1]
files = subprocess.run(["git", "-C", repo, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
main = subprocess.run(["git", "-C", repo, "rev-parse", "main"], capture_output=True, text=True, check=True).stdout.strip()
out = []
for c in range(200):
    msg = f"range commit {c}\n".encode()
    out.append(b"commit refs/heads/agent/range\n")
    out.append(f"author Bench <bench@example.com> {1700100000 + c} +0000\n".encode())
    out.append(f"committer Bench <bench@example.com> {1700100000 + c} +0000\n".encode())
    out.append(b"data %d\n%s" % (len(msg), msg))
    if c == 0:
        out.append(f"from {main}\n".encode())
    for k in range(5):
        p = files[(c * 487 + k * 9973) % len(files)]
        body = f"range {c} {k}\n".encode()
        out.append(f"M 100644 inline {p}\n".encode())
        out.append(b"data %d\n%s\n" % (len(body), body))
    out.append(b"\n")
subprocess.run(["git", "-C", repo, "fast-import", "--quiet", "--force"], input=b"".join(out), check=True)
PY
fi
echo "range: $(git rev-list --count main..agent/range) commits"

cd "$staged_dir"
hyperfine --shell=none --warmup 5 --runs 40 --ignore-failure \
  --export-json "$work/staged.json" \
  -n 'git diff --cached --name-only' 'git diff --cached --name-only' \
  -n 'git-agent scope check --staged' 'git-agent scope check --staged' \
  -n 'git-agent-scope check --staged (launcher)' 'git-agent-scope check --staged'

cd "$repo"
hyperfine --shell=none --warmup 3 --runs 30 --ignore-failure \
  --export-json "$work/range.json" \
  -n 'git log --name-only main..agent/range' 'git log --name-only main..agent/range' \
  -n 'git-agent scope check --range main..agent/range' 'git-agent scope check --agent range --range main..agent/range'

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for name in ["staged", "range"]:
    results = json.load(open(f"{work}/{name}.json"))["results"]
    git = results[0]
    for ours in results[1:]:
        print(f"{name}: git median {git['median']*1000:.1f} ms, {ours['command']} median {ours['median']*1000:.1f} ms, ratio {ours['median']/git['median']:.2f}x")
PY
