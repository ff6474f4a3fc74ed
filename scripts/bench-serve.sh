#!/usr/bin/env bash
# Edit-to-visible latency of `casebook serve` at 1,000 and 10,000 synthetic cases.
# Usage: scripts/bench-serve.sh [EDITS [PAUSE_MS]]   (CARGO_TARGET_DIR is honoured)
# PAUSE_MS (default 300) is the time between edits; with a short pause an edit can land
# while the previous one's second phase (the big term pages) is still rendering.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin casebook --example bench_serve
target="${CARGO_TARGET_DIR:-target}/release"
for n in 1000 10000; do
  "$target/examples/bench_serve" run "$target/casebook" "$n" "${1:-10}" "${2:-300}"
done
