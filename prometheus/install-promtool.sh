#!/usr/bin/env bash
# Installs promtool (Debian's `prometheus` package) so `promtool test rules` can run.
# Idempotent: does nothing when promtool is already on PATH. Never starts the Prometheus daemon.
set -euo pipefail

fail () {
  echo "install-promtool: $*" >&2
  exit 1
}

if command -v promtool > /dev/null 2>&1; then
  echo "install-promtool: promtool already on PATH ($(command -v promtool))"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || fail "promtool is not on PATH and installing it needs root (apt-get install prometheus). Re-run as root, or install promtool yourself: https://prometheus.io/download/"
command -v apt-get > /dev/null 2>&1 || fail "promtool is not on PATH and apt-get is not available to install it. Install promtool yourself: https://prometheus.io/download/"

# The package's postinst would start the daemon through invoke-rc.d / deb-systemd-invoke;
# both obey policy-rc.d, and exit code 101 means "action forbidden". Docker images usually ship
# such a file already: keep it. Otherwise put one in place for the install and restore afterwards.
policy=/usr/sbin/policy-rc.d
backup=''
policy_forbids_start () {
  [ -x "$policy" ] || return 1
  local code=0
  "$policy" prometheus start > /dev/null 2>&1 || code=$?
  [ "$code" -eq 101 ]
}
if ! policy_forbids_start; then
  if [ -e "$policy" ]; then
    backup="$(mktemp "$policy.memdiag-backup.XXXXXX")"
    cp -p "$policy" "$backup"
  fi
  restore_policy () {
    if [ -n "$backup" ]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# written by install-promtool.sh for the duration of the install\nexit 101\n' > "$policy"
  chmod 755 "$policy"
fi

export DEBIAN_FRONTEND=noninteractive
# Other people may be running apt at the same time: wait for the dpkg lock instead of failing.
apt_wait=(-o DPkg::Lock::Timeout=300)
apt-get "${apt_wait[@]}" update || fail "apt-get update failed (no network to the Debian mirror?)"
apt-get "${apt_wait[@]}" install -y --no-install-recommends prometheus || fail "apt-get install prometheus failed"

command -v promtool > /dev/null 2>&1 || fail "the prometheus package was installed but promtool is still not on PATH"
echo "install-promtool: installed $(promtool --version 2>&1 | head -n 1)"
