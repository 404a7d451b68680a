#!/usr/bin/env bash
# Compares logtriage with ripgrep and grep on the benchmark corpus, in one run, and prints each
# target of the speed issue with its measured ratio. Figures go to BENCHMARKS.md by hand.
#
#   usage: benches/compare.sh [WORK_DIR]      (default /tmp/logtriage-bench; needs ~6 GiB)
#   ONLY="6 7" benches/compare.sh             (only these sections; RUNS=N runs each)
#
# Needs: rg (ripgrep) and hyperfine, e.g. `apt-get install ripgrep hyperfine`; python3; gzip;
# for sections 6-8: tar, xz, bzip2, zstd (`apt-get install xz-utils bzip2 zstd`).
# It installs nothing itself. The corpus comes from ../shared/bench/make-corpus.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/logtriage-bench}
runs=${RUNS:-5}
missing=()
for tool in rg hyperfine python3 gzip tar xz bzip2 zstd; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "compare.sh: missing ${missing[*]}; install them (e.g. apt-get install ripgrep hyperfine xz-utils bzip2 zstd) and rerun" >&2
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

only=${ONLY:-1 2 3 4 5 6 7 8 9}
want() { [[ " $only " == *" $1 "* ]]; }
median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.3f" % x["median"] for x in r))' "$1"; }
bench() { # name, commands...
  local name=$1; shift
  hyperfine -N -i --output="${OUTPUT:-pipe}" -w 1 -r "$runs" --export-json "$work/$name.json" "$@" >"$work/$name.txt" 2>&1
  median "$work/$name.json"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

echo "machine: $(nproc) cores, $(uname -r); $(date -u +%F)"
echo
# --- 1. one 1 GiB file ------------------------------------------------------------------------
if want 1; then
read -r t_lt t_rg t_grep < <(bench t1 \
  "$lt scan -q --format json $work/corpus-1g.log" \
  "rg -c -F -f $work/literals.txt $work/corpus-1g.log" \
  "grep -c -F -f $work/literals.txt $work/corpus-1g.log")
echo "1. 1 GiB file, json: logtriage ${t_lt}s  rg ${t_rg}s  grep ${t_grep}s  ratio lt/rg $(ratio "$t_lt" "$t_rg") (target <= 0.5)"
read -r t_lt1 < <(bench t1j1 "$lt scan -q -j1 --format json $work/corpus-1g.log")
echo "   (logtriage -j1: ${t_lt1}s)"
fi
# --- 2. gzip ----------------------------------------------------------------------------------
if want 2; then
read -r z_lt z_rg < <(bench t2 \
  "$lt scan -q --format json $work/corpus-1g.log.gz" \
  "rg -z -c -F -f $work/literals.txt $work/corpus-1g.log.gz")
echo "2. gzip -1 file: logtriage ${z_lt}s  rg -z ${z_rg}s  ratio $(ratio "$z_lt" "$z_rg") (target <= 0.5)"
fi
# --- 3. memory --------------------------------------------------------------------------------
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$work/rss.txt" || true; tail -1 "$work/rss.txt"; }
if want 3; then
echo "3. peak RSS (KiB; target <= 65536): 1 GiB file $(rss "$lt" scan -q --format json "$work/corpus-1g.log")," \
  "512 MiB single line $(rss "$lt" scan -q --format json "$work/one-line-512m.log")," \
  "10,000 small files $(rss "$lt" scan -q --format json "$work/small")"
fi
# --- 4. 10x rules -----------------------------------------------------------------------------
if want 4; then
read -r r_base r_more < <(bench t4 \
  "$lt scan -q --format json $work/corpus-1g.log" \
  "$lt scan -q --format json --rules $work/extra-600.toml $work/corpus-1g.log")
echo "4. +600 synthetic rules: ${r_more}s vs ${r_base}s  ratio $(ratio "$r_more" "$r_base") (target <= 1.5)"
fi
# --- 5. many small files ----------------------------------------------------------------------
if want 5; then
read -r s_lt s_rg < <(bench t5 \
  "$lt scan -q --format json $work/small" \
  "rg -c -F -f $work/literals.txt $work/small")
echo "5. 10,000 small files: logtriage ${s_lt}s  rg ${s_rg}s  ratio $(ratio "$s_lt" "$s_rg") (target <= 1.0)"
fi
# --- 6. a 1 GiB support bundle -----------------------------------------------------------------
# The corpus cut into 64 files of 16 MiB in 8 host folders, as tar.gz (gzip -6, tar's default)
# and as zip (deflate -6): scanning overlaps inflating; zip members are read in parallel.
if want 6; then
  if [ ! -f "$work/bundle.tar.gz" ]; then
    rm -rf "$work/bundle"
    python3 - "$work/corpus-1g.log" "$work/bundle" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
part = 16 << 20
with open(src, "rb") as f:
    data = f.read()
pos, i = 0, 0
while pos < len(data):
    end = data.find(b"\n", pos + part)
    end = len(data) if end < 0 else end + 1
    d = os.path.join(out, "incident-42", f"host{i % 8 + 1}.example.com", "hadoop")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"hadoop-hdfs-datanode-host{i % 8 + 1}.log.{i // 8}"), "wb") as g:
        g.write(data[pos:end])
    pos, i = end, i + 1
PY
    tar -C "$work/bundle" -czf "$work/bundle.tar.gz" incident-42
    (cd "$work/bundle" && python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for root, _, files in sorted(os.walk("incident-42")):
        for n in sorted(files):
            z.write(os.path.join(root, n))' "$work/bundle.zip")
    rm -rf "$work/bundle"
  fi
  read -r b_lt b_tar b_zip < <(OUTPUT=null bench t6 \
    "$lt scan -q --format json $work/bundle.tar.gz" \
    "tar -xzOf $work/bundle.tar.gz" \
    "$lt scan -q --format json $work/bundle.zip")
  echo "6. 1 GiB bundle: logtriage tar.gz ${b_lt}s  tar -xzOf ${b_tar}s  ratio $(ratio "$b_lt" "$b_tar") (target <= 1.2);" \
    "zip ${b_zip}s ($(ratio "$b_zip" "$b_lt")x the tar.gz; target < 1)"
fi
# --- 7. xz, bzip2, zstd rotated logs -----------------------------------------------------------
# logrotate's compresscmd at the tools' default levels: xz -6, bzip2 -9, zstd -3.
if want 7; then
  [ -f "$work/corpus-1g.log.xz" ] || xz -6 -T2 -c "$work/corpus-1g.log" >"$work/corpus-1g.log.xz"
  [ -f "$work/corpus-1g.log.bz2" ] || bzip2 -9 -c "$work/corpus-1g.log" >"$work/corpus-1g.log.bz2"
  [ -f "$work/corpus-1g.log.zst" ] || zstd -3 -q -c "$work/corpus-1g.log" >"$work/corpus-1g.log.zst"
  for c in "xz xz" "bz2 bzip2" "zst zstd"; do
    set -- $c
    read -r c_lt c_cli < <(OUTPUT=null bench "t7-$1" \
      "$lt scan -q --format json $work/corpus-1g.log.$1" \
      "$2 -dc $work/corpus-1g.log.$1")
    echo "7. $2: logtriage ${c_lt}s  $2 -dc ${c_cli}s  ratio $(ratio "$c_lt" "$c_cli") (target <= 1.2)"
  done
  # The corpus repeats one 1.1 MiB block, so xz and zstd compress it 2,000:1 and 100:1 and
  # decompress it at memory speed. Real rotated logs compress 5-20:1: the same lines with
  # every run of 3+ digits (times, ids, ports) re-drawn in each repetition.
  if [ ! -f "$work/varied-1g.log.zst" ]; then
    python3 - "$work/corpus-1g.log" "$work/varied-1g.log" <<'PY'
import random, re, sys
src, out = sys.argv[1], sys.argv[2]
size = 1 << 30
head = open(src, "rb").read(4 << 20)
period = head.find(head[:4096], 1)
block = head[:period]
rng = random.Random(1201)
digits = re.compile(rb"[0-9]{3,}")
redraw = lambda m: str(rng.randrange(10 ** (len(m.group(0)) - 1), 10 ** len(m.group(0)))).encode()
written = 0
with open(out, "wb") as f:
    while written < size:
        b = digits.sub(redraw, block) if written else block
        f.write(b)
        written += len(b)
PY
    xz -6 -T2 -c "$work/varied-1g.log" >"$work/varied-1g.log.xz"
    bzip2 -9 -c "$work/varied-1g.log" >"$work/varied-1g.log.bz2"
    zstd -3 -q -c "$work/varied-1g.log" >"$work/varied-1g.log.zst"
    rm -f "$work/varied-1g.log"
  fi
  for c in "xz xz" "bz2 bzip2" "zst zstd"; do
    set -- $c
    read -r c_lt c_cli < <(OUTPUT=null bench "t7v-$1" \
      "$lt scan -q --format json $work/varied-1g.log.$1" \
      "$2 -dc $work/varied-1g.log.$1")
    echo "7. $2, varied corpus: logtriage ${c_lt}s  $2 -dc ${c_cli}s  ratio $(ratio "$c_lt" "$c_cli") (target <= 1.2)"
  done
fi
# --- 8. memory of archives and compressed files ------------------------------------------------
if want 8; then
  echo "8. peak RSS (KiB; target <= 65536): bundle.tar.gz $(rss "$lt" scan -q --format json "$work/bundle.tar.gz")," \
    "bundle.zip $(rss "$lt" scan -q --format json "$work/bundle.zip")," \
    "xz $(rss "$lt" scan -q --format json "$work/corpus-1g.log.xz")," \
    "bzip2 $(rss "$lt" scan -q --format json "$work/corpus-1g.log.bz2")," \
    "zstd $(rss "$lt" scan -q --format json "$work/corpus-1g.log.zst")"
fi
# --- 9. unknown errors: the cost of looking at every error-level event ------------------------
# The default (--unknown error) adds the level words to the literal pass; the same literals for
# rg. wc -l is the floor of reading every line.
if want 9; then
  { cat "$work/literals.txt"; printf '%s\n' ERROR FATAL SEVERE PANIC CRITICAL 'Exception in thread'; } >"$work/literals-unknown.txt"
  read -r u_on u_off u_rg u_wc < <(bench t9 \
    "$lt scan -q --format json $work/corpus-1g.log" \
    "$lt scan -q --format json --unknown off $work/corpus-1g.log" \
    "rg -c -F -f $work/literals-unknown.txt $work/corpus-1g.log" \
    "wc -l $work/corpus-1g.log")
  echo "9. unknown errors, 1 GiB: default ${u_on}s  --unknown off ${u_off}s (cost $(ratio "$u_on" "$u_off")x)  rg (same literals) ${u_rg}s  ratio $(ratio "$u_on" "$u_rg") (target <= 0.5)  wc -l ${u_wc}s  ratio $(ratio "$u_on" "$u_wc") (target <= 5.5, goal 4)"
  read -r w_on < <(bench t9w "$lt scan -q --format json --unknown warn $work/corpus-1g.log")
  echo "   (--unknown warn: ${w_on}s)"
fi
echo
echo "hyperfine reports: $work/t*.txt"
