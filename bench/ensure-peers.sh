#!/bin/sh
# Installs the peers of `npm run bench:datapath` from Debian when they are missing: restic and borg.
# Called by bench/datapath.ts; not part of npm test or CI.
set -eu
missing=""
command -v restic >/dev/null 2>&1 || missing="$missing restic"
command -v borg >/dev/null 2>&1 || missing="$missing borgbackup"
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ensure-peers: installing$missing from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >&2
