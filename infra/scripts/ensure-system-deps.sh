#!/usr/bin/env bash
# Installs the Debian packages and builds the helpers that tests and `npm start` need, when missing.
# Idempotent and quick when everything is present. Run as root (CI and the dev machines are).
set -euo pipefail
cd "$(dirname "$0")/../.."

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[vaultflow] installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then echo "[vaultflow] need root to install ${missing[*]}" >&2; return 1; fi
  if [ ! -f /var/lib/apt/.vaultflow-updated ] || [ -n "$(find /var/lib/apt/.vaultflow-updated -mmin +1440 2>/dev/null)" ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq && touch /var/lib/apt/.vaultflow-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# --- TLS test certificates (packages/vsphere) ---
apt_install openssl

# --- NBD test peers (packages/nbd) ---
apt_install qemu-utils nbdkit libnbd-bin

# --- vCenter simulator (infra/vcsim) ---
apt_install golang-go golang-github-vmware-govmomi-dev
bash infra/vcsim/build.sh

# --- browser for the web console's end-to-end tests (tests/e2e, playwright-core drives it) ---
[ -x /usr/bin/chromium ] || apt_install chromium
