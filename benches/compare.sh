#!/usr/bin/env bash
# Compares logtriage with ripgrep and grep on the benchmark corpus, in one run, and prints each
# target of the speed issue with its measured ratio. Figures go to BENCHMARKS.md by hand.
#
#   usage: benches/compare.sh [WORK_DIR]      (default /tmp/logtriage-bench; needs ~3 GiB)
#
# Needs: rg (ripgrep) and hyperfine, e.g. `apt-get install ripgrep hyperfine`; python3; gzip.
# It installs nothing itself. The corpus comes from ../shared/bench/make-corpus.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/logtriage-bench}
runs=${RUNS:-5}
missing=()
for tool in rg hyperfine python3 gzip; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "compare.sh: missing ${missing[*]}; install them (e.g. apt-get install ripgrep hyperfine) and rerun" >&2
  exit 2
fi
mkdir -p "$work"
cd "$here"
cargo build --release -q
lt=$here/target/release/logtriage
make_corpus=$here/../shared/bench/make-corpus.sh

# --- inputs -----------------------------------------------------------------------------------
[ -f "$work/corpus-1g.log" ] || "$make_corpus" 1024 "$work/corpus-1g.log"
[ -f "$work/corpus-1g.log.gz" ] || gzip -1 -c "$work/corpus-1g.log" >"$work/corpus-1g.log.gz"
"$lt" rules list --format json | python3 -c '
import json, sys
lits = sorted({l for r in json.load(sys.stdin)["rules"] for l in r["literals"]})
print("\n".join(lits))' >"$work/literals.txt"
echo "literals: $(wc -l <"$work/literals.txt") distinct, from the built-in packs"

if [ ! -f "$work/extra-600.toml" ]; then
  python3 - "$work/extra-600.toml" <<'PY'
import random, sys
random.seed(7)
words = ["quantum", "borealis", "zephyr", "marmot", "obsidian", "tangerine", "vortex", "juniper",
         "kestrel", "nimbus", "saffron", "glacier", "halcyon", "lantern", "meridian", "quokka"]
with open(sys.argv[1], "w") as f:
    for i in range(600):
        lit = f"{random.choice(words)} {random.choice(words)} failure {i:04d} detected"
        f.write(f'[[rule]]\nid = "synthetic.r{i:04d}"\ntitle = "Synthetic {i}"\nseverity = "low"\n'
                f'component = "app"\nlayer = "application"\nliterals = ["{lit}"]\nrunbook = ["none"]\n\n')
PY
fi

if [ ! -d "$work/small" ]; then
  python3 - "$work/corpus-1g.log" "$work/small" <<'PY'
import os, random, sys
random.seed(11)
src, out = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    data = f.read(700 << 20)
pos = 0
for i in range(10000):
    size = random.randint(1 << 10, 100 << 10)
    end = data.find(b"\n", pos + size)
    end = len(data) if end < 0 else end + 1
    d = os.path.join(out, f"host{i % 100:02d}", f"svc{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"part-{i:05d}.log"), "wb") as g:
        g.write(data[pos:end])
    pos = end
PY
fi
if [ ! -f "$work/one-line-512m.log" ]; then
  head -c $((512 << 20)) /dev/zero | tr '\0' 'x' >"$work/one-line-512m.log"
fi

median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.3f" % x["median"] for x in r))' "$1"; }
bench() { # name, commands...
  local name=$1; shift
  hyperfine -N -i --output=pipe -w 1 -r "$runs" --export-json "$work/$name.json" "$@" >"$work/$name.txt" 2>&1
  median "$work/$name.json"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

echo "machine: $(nproc) cores, $(uname -r); $(date -u +%F)"
echo
# --- 1. one 1 GiB file ------------------------------------------------------------------------
read -r t_lt t_rg t_grep < <(bench t1 \
  "$lt scan -q --format json $work/corpus-1g.log" \
  "rg -c -F -f $work/literals.txt $work/corpus-1g.log" \
  "grep -c -F -f $work/literals.txt $work/corpus-1g.log")
echo "1. 1 GiB file, json: logtriage ${t_lt}s  rg ${t_rg}s  grep ${t_grep}s  ratio lt/rg $(ratio "$t_lt" "$t_rg") (target <= 0.5)"
read -r t_lt1 < <(bench t1j1 "$lt scan -q -j1 --format json $work/corpus-1g.log")
echo "   (logtriage -j1: ${t_lt1}s)"
# --- 2. gzip ----------------------------------------------------------------------------------
read -r z_lt z_rg < <(bench t2 \
  "$lt scan -q --format json $work/corpus-1g.log.gz" \
  "rg -z -c -F -f $work/literals.txt $work/corpus-1g.log.gz")
echo "2. gzip -1 file: logtriage ${z_lt}s  rg -z ${z_rg}s  ratio $(ratio "$z_lt" "$z_rg") (target <= 0.5)"
# --- 3. memory --------------------------------------------------------------------------------
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$work/rss.txt" || true; tail -1 "$work/rss.txt"; }
echo "3. peak RSS (KiB; target <= 65536): 1 GiB file $(rss "$lt" scan -q --format json "$work/corpus-1g.log")," \
  "512 MiB single line $(rss "$lt" scan -q --format json "$work/one-line-512m.log")," \
  "10,000 small files $(rss "$lt" scan -q --format json "$work/small")"
# --- 4. 10x rules -----------------------------------------------------------------------------
read -r r_base r_more < <(bench t4 \
  "$lt scan -q --format json $work/corpus-1g.log" \
  "$lt scan -q --format json --rules $work/extra-600.toml $work/corpus-1g.log")
echo "4. +600 synthetic rules: ${r_more}s vs ${r_base}s  ratio $(ratio "$r_more" "$r_base") (target <= 1.5)"
# --- 5. many small files ----------------------------------------------------------------------
read -r s_lt s_rg < <(bench t5 \
  "$lt scan -q --format json $work/small" \
  "rg -c -F -f $work/literals.txt $work/small")
echo "5. 10,000 small files: logtriage ${s_lt}s  rg ${s_rg}s  ratio $(ratio "$s_lt" "$s_rg") (target <= 1.0)"
echo
echo "hyperfine reports: $work/t*.txt"
