#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs made from the project's own logs and rule packs
# (samples/, tests/fixtures/, rules/, tests/packs/). Safe to run again: files are named by
# content. The corpora are not kept in git (fuzz/.gitignore).
set -euo pipefail
cd "$(dirname "$0")"
root=..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p corpus/frame corpus/layout_time corpus/rule_pack

# Plain-text logs (gzip and Markdown files left out), cut at line boundaries into pieces of at
# most 3.5 KiB.
i=0
while IFS= read -r -d '' f; do
  case "$f" in *.gz | *.md) continue ;; esac
  i=$((i + 1))
  split -C 3500 -d -a 3 "$f" "$tmp/log$i."
done < <(find "$root/samples" "$root/tests/fixtures" -type f -print0 | sort -z)

put() { # put TARGET FILE: store FILE in the target's corpus under its checksum
  cp "$2" "corpus/$1/seed-$(sha1sum "$2" | cut -c1-16)"
}

n=0
for p in "$tmp"/log*; do
  put layout_time "$p"
  # frame: control byte 0 = line by line, layout byte 0xff = detect; then chunk sizes
  # 17, 65, 8 bytes (control 3), and 200, 1 bytes with a since/until window (control 0x1a).
  case $((n % 3)) in
    0) printf '\000\377' ;;
    1) printf '\003\377\020\100\007' ;;
    2) printf '\032\377\307\000' ;;
  esac >"$tmp/frame" && cat "$p" >>"$tmp/frame" && put frame "$tmp/frame"
  n=$((n + 1))
done

# Rule packs: each [[rule]] of the built-in packs with its pack's [pack] table, and the test
# packs whole.
for f in "$root"/rules/*.toml; do
  awk -v out="$tmp/rule" '
    /^\[pack\]/ { inpack = 1; head = ""; }
    /^\[\[rule\]\]/ { inpack = 0; n++; }
    { if (inpack) head = head $0 "\n"; else if (n) rules[n] = rules[n] $0 "\n"; }
    END { for (k = 1; k <= n; k++) { f = out "." k; printf "%s%s", head, rules[k] > f; close(f); } }
  ' "$f"
  for r in "$tmp"/rule.*; do put rule_pack "$r"; done
  rm -f "$tmp"/rule.*
done
for f in "$root"/tests/packs/*.toml; do put rule_pack "$f"; done

for t in frame layout_time rule_pack; do
  echo "corpus/$t: $(ls "corpus/$t" | wc -l) inputs"
done
