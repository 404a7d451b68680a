#!/usr/bin/env bash
# Builds the packages (contrib/packages.sh) and tries the .deb for real on this Debian machine:
# installs it with dpkg, runs the installed logtriage on the installed samples, reads its man
# page, loads its bash completion, checks the tail service is installed disabled, removes and
# purges it; then lists the .rpm's files with rpm -qlp (Debian's rpm package, installed when
# missing) and installs, runs and erases it in a throw-away root. Needs root (dpkg -i). Not part of .ci/run: the release build and the packaging
# tools take most of CI's budget.
set -euo pipefail
cd "$(dirname "$0")/.."
contrib/packages.sh
deb=$(ls -t target/packages/logtriage_*.deb | head -1)
rpmfile=$(ls -t target/packages/logtriage-*.rpm | head -1)
say() { printf '\n== %s\n' "$*"; }

say "install $deb"
dpkg -i "$deb"
trap 'dpkg -P logtriage >/dev/null 2>&1 || true' EXIT
test "$(command -v logtriage)" = /usr/bin/logtriage
logtriage --version

say "scan the installed samples"
set +e
logtriage scan --tz UTC /usr/share/logtriage/samples > /tmp/logtriage-pkg-scan.txt
rc=$?
set -e
test "$rc" -eq 1 # findings at medium and above
grep -q "START HERE" /tmp/logtriage-pkg-scan.txt
head -5 /tmp/logtriage-pkg-scan.txt

say "man pages"
test -f /usr/share/man/man1/logtriage.1.gz
test -f /usr/share/man/man1/logtriage-scan.1.gz
MANPAGER=cat MANWIDTH=80 man logtriage | grep -q "logtriage - Finds known failures"
MANPAGER=cat MANWIDTH=80 man logtriage-merge | grep -q "Examples:"
echo "man logtriage and man logtriage-merge render"

say "bash completion"
bash -c 'source /usr/share/bash-completion/completions/logtriage && complete -p logtriage'
test -f /usr/share/zsh/vendor-completions/_logtriage
test -f /usr/share/fish/vendor_completions.d/logtriage.fish

say "the tail service: installed, not enabled"
test -f /lib/systemd/system/logtriage-tail.service
test -f /etc/logtriage/tail.env
test ! -e /etc/systemd/system/multi-user.target.wants/logtriage-tail.service
# systemd itself does not run here (a container): the unit is checked, not started.
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify /lib/systemd/system/logtriage-tail.service
  echo "systemd-analyze verify: the unit is valid"
fi

say "integrations"
test -f /usr/share/logtriage/ansible/sweep.yml
ls /usr/share/logtriage

say "remove"
dpkg -r logtriage
test ! -e /usr/bin/logtriage
test -f /etc/logtriage/tail.env # a conffile stays until purged
dpkg -P logtriage
test ! -e /etc/logtriage/tail.env
trap - EXIT
echo "removed and purged cleanly"

say "rpm -qlp $rpmfile"
if ! command -v rpm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rpm >/dev/null
fi
rpm -qlp "$rpmfile" | tee /tmp/logtriage-rpm-files.txt
for f in /usr/bin/logtriage /usr/share/man/man1/logtriage.1.gz /usr/share/bash-completion/completions/logtriage \
  /usr/lib/systemd/system/logtriage-tail.service /etc/logtriage/tail.env /usr/share/logtriage/ansible/sweep.yml; do
  grep -qx "$f" /tmp/logtriage-rpm-files.txt || { echo "the rpm lacks $f"; exit 1; }
done
say "install the rpm into a throw-away root, run it, erase it"
root=$(mktemp -d)
rpm --root "$root" --initdb
# --nodeps: the throw-away root has no glibc package of its own (the binary runs on the host's).
rpm --root "$root" -i --nodeps --noscripts "$rpmfile" 2>&1 | grep -v "should not be used directly\|assuming you know" || true
test -x "$root/usr/bin/logtriage" && test -f "$root/etc/logtriage/tail.env"
set +e
"$root/usr/bin/logtriage" scan -q "$root/usr/share/logtriage/samples" > /dev/null
rc=$?
set -e
test "$rc" -eq 1
rpm --root "$root" -e logtriage 2>&1 | grep -v "should not be used directly\|assuming you know" || true
test ! -e "$root/usr/bin/logtriage"
rm -rf "$root"
echo "the rpm installs, runs and erases"
echo "all package checks passed"
