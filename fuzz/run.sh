#!/usr/bin/env bash
# Runs one fuzz target for a given time with its dictionary and input size limit, on one core.
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# TARGET: frame | layout_time | rule_pack; SECONDS defaults to 600. Seeds the corpus first
# (fuzz/seed.sh) when it is empty. The libFuzzer log is fuzz/logs/TARGET.log; crashes land in
# fuzz/artifacts/TARGET/. Needs cargo-fuzz; the toolchain may be stable (RUSTC_BOOTSTRAP=1 is
# set here, as cargo-fuzz uses nightly-only flags).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
secs=${2:-600}
shift $(($# < 2 ? $# : 2))
case $target in
  frame) dict=dicts/logs.dict max_len=4096 ;;
  layout_time) dict=dicts/logs.dict max_len=4096 ;;
  rule_pack) dict=dicts/rule_pack.dict max_len=8192 ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
if [ -z "$(ls -A "corpus/$target" 2>/dev/null)" ]; then ./seed.sh; fi
mkdir -p logs
export RUSTC_BOOTSTRAP=1
cargo fuzz build "$target"
# -jobs=1 makes libFuzzer write its log to ./fuzz-0.log; it is moved to logs/ afterwards.
status=0
cargo fuzz run "$target" -- -max_total_time="$secs" -jobs=1 -dict="$dict" \
  -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@" || status=$?
mv fuzz-0.log "logs/$target.log"
grep -E '^#[0-9]+ +(DONE|NEW|REDUCE|pulse)' "logs/$target.log" | tail -1 || true
grep -E '^stat::|^Done ' "logs/$target.log" || true
echo "corpus/$target: $(ls "corpus/$target" | wc -l) inputs, $(du -sk "corpus/$target" | cut -f1) KiB"
echo "artifacts/$target: $(ls "artifacts/$target" 2>/dev/null | wc -l) files"
exit $status
