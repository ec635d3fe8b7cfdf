#!/usr/bin/env bash
# The demo's steps done with plain git, as a baseline for bench/demo.sh: the
# same sandbox, three worktrees, the same commits, the scope check as a
# staged-name listing, the forecast as merge-tree runs, the landing as a
# merge, the removals as worktree removes and an archive ref.
set -euo pipefail
d=$(mktemp -d /tmp/git-demo-baseline.XXXXXX)
trap 'rm -rf "$d"' EXIT
w() { mkdir -p "$(dirname "$1")"; printf '%b' "$2" > "$1"; }
git init -q -b main "$d/shop"
cd "$d/shop"
w src/billing/invoice.rs 'pub fn total() -> u32 {\n    0\n}\n'
w src/api/routes.rs 'pub fn routes() {}\n'
w docs/guide.md '# Guide\n'
w Cargo.lock '# lock\n'
git add -A && git commit -q -m 'Initial shop'
w .git-agent.yaml 'version: 1\n'
git add .git-agent.yaml && git commit -q -m 'Add git-agent policy'
for a in billing api docs; do
  git worktree add -q -b "agent/$a" "../shop.agents/$a" main
done
cd ../shop.agents/billing
w src/billing/invoice.rs 'pub fn total() -> u32 {\n    42\n}\n'
git add -A && git diff --cached --name-only >/dev/null && git commit -q -m 'Compute invoice totals'
w src/api/routes.rs 'pub fn routes() { /* billing */ }\n'
git add -A && git diff --cached --name-only >/dev/null
git restore --staged --worktree src/api/routes.rs
cd ../docs
w docs/guide.md '# Guide\n\nInvoices show their total.\n'
git add -A && git commit -q -m 'Document invoice totals'
cd ../api
w src/api/routes.rs 'pub fn routes() { /* GET /invoices/total */ }\n'
git add -A && git commit -q -m 'Add the invoice endpoint'
w src/billing/invoice.rs 'pub fn total() -> u32 {\n    7\n}\n'
git add -A && git commit -q --no-verify -m 'Tweak totals for the endpoint'
cd ../../shop
for a in billing api docs; do
  git -C "../shop.agents/$a" status --porcelain >/dev/null
  git rev-list --count "main..agent/$a" >/dev/null
done
for pair in "main agent/billing" "main agent/api" "main agent/docs" \
  "agent/billing agent/api" "agent/billing agent/docs" "agent/api agent/docs"; do
  # shellcheck disable=SC2086
  git merge-tree --write-tree $pair >/dev/null || true
done
git log --name-only --format=%H main..agent/api >/dev/null
git log --name-only --format=%H main..agent/billing >/dev/null
git merge -q --no-ff -m "Land agent 'billing'" agent/billing
git log -1 --format=%B main >/dev/null
git worktree remove ../shop.agents/billing && git branch -q -D agent/billing
git update-ref refs/agent-archive/api/now agent/api
git worktree remove ../shop.agents/api && git branch -q -D agent/api
git worktree list >/dev/null
