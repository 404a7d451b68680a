#!/usr/bin/env bash
# Prints logtriage's score on the labelled real logs of tests/real/ (per component: failures
# found, under-rated, missed, false alarms, split continuations), the table tests/real_logs.rs
# checks, for BENCHMARKS.md-style tracking:  benches/real-logs.sh [--problems]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test --release -q --test real_logs -- --nocapture 2>&1) || status=$?
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo "$out" | sed -n '/^| component/,/^$/p'
if [[ "${1:-}" == "--problems" ]]; then
    echo "$out" | grep -E ': (missed|under-rated|false alarm|split continuation)' || echo "no problems"
fi
exit "${status:-0}"
