#!/usr/bin/env bash
# Builds logtriage's .deb and .rpm into target/packages/ (cargo-deb, cargo-generate-rpm;
# installed with cargo when missing). What they hold is in Cargo.toml's
# [package.metadata.deb] and [package.metadata.generate-rpm]:
#   /usr/bin/logtriage, man pages (logtriage(1), logtriage-scan(1), ...), completions for bash,
#   zsh and fish, README and licence, logtriage-tail.service (disabled) and
#   /etc/logtriage/tail.env, and under /usr/share/logtriage/ the samples and the Ansible,
#   Ambari and Spark integrations.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cargo-deb cargo-generate-rpm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing $tool"
    cargo install --locked "$tool"
  fi
done
cargo build --release --locked
gen=target/packages/gen
rm -rf "$gen"
mkdir -p "$gen/man" "$gen/share"
bin=target/release/logtriage
# From the binary itself: they never drift from --help.
"$bin" man --out "$gen/man"
# cargo-deb compresses man pages itself; the rpm takes them compressed.
mkdir -p "$gen/man-gz"
for page in "$gen"/man/*.1; do gzip -9nc "$page" > "$gen/man-gz/$(basename "$page").gz"; done
"$bin" completions bash > "$gen/logtriage.bash"
"$bin" completions zsh > "$gen/_logtriage"
"$bin" completions fish > "$gen/logtriage.fish"
cp -r samples "$gen/share/samples"
for integration in ansible ambari spark; do
  if [ -d "contrib/$integration" ]; then
    cp -r "contrib/$integration" "$gen/share/$integration"
  fi
done
find "$gen/share" -name '__pycache__' -prune -exec rm -rf {} +
cargo deb --no-build --output target/packages/
cargo generate-rpm --output target/packages/
ls -l target/packages/*.deb target/packages/*.rpm
