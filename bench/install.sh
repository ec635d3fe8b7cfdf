#!/usr/bin/env bash
# Cold `cargo install --locked --path .` with a release profile given as
# cargo --config overrides, into a fresh root and a fresh target directory:
# prints the wall time, the load average before it, and the installed size.
#   bench/install.sh LABEL [CONFIG...]
#   e.g. bench/install.sh fat-lto 'profile.release.lto="fat"' 'profile.release.codegen-units=1'
# The programs stay in /tmp/git-agent-install.LABEL/bin for the gate benchmark.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
label=$1
shift
dest=/tmp/git-agent-install.$label
rm -rf "$dest" "$dest.target"
args=()
for c in "$@"; do args+=(--config "$c"); done
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)
start=$(date +%s.%N)
CARGO_TARGET_DIR="$dest.target" cargo install --quiet --locked --path "$root" --root "$dest" "${args[@]}"
end=$(date +%s.%N)
rm -rf "$dest.target"
size=$(du -cb "$dest"/bin/* | tail -1 | cut -f1)
engine=$(stat -c %s "$dest/bin/git-agent")
launcher=$(stat -c %s "$dest/bin/git-agent-land")
printf '%s\t%.0f s\t%.1f MB total\tengine %.1f MB\tlauncher %.0f kB\tload before: %s\t%s\n' \
  "$label" "$(echo "$end - $start" | bc)" "$(echo "$size / 1000000" | bc -l)" \
  "$(echo "$engine / 1000000" | bc -l)" "$(echo "$launcher / 1000" | bc -l)" "$load" "$*"
