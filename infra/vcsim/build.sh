#!/usr/bin/env bash
# Builds the vCenter test harness into infra/vcsim/bin/vcsimcbt (git-ignored), in GOPATH mode
# against Debian's govmomi (apt: golang-go golang-github-vmware-govmomi-dev).
# Skips the build when the binary exists and bin/.source-hash matches the sha256 of the inputs:
# every file under src/, this script, `go version` and the installed govmomi package version.
# Usage: bash infra/vcsim/build.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$here/bin"
bin="$bin_dir/vcsimcbt"
stamp="$bin_dir/.source-hash"
gocode=/usr/share/gocode

if ! command -v go >/dev/null 2>&1 || [ ! -d "$gocode/src/github.com/vmware/govmomi/simulator" ]; then
  echo "[vcsim] needs golang-go and golang-github-vmware-govmomi-dev: run bash infra/scripts/ensure-system-deps.sh" >&2
  exit 1
fi

source_hash() {
  {
    (cd "$here" && find src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    sha256sum < "$here/build.sh"
    go version
    dpkg-query -W -f='${Package} ${Version}\n' golang-github-vmware-govmomi-dev 2>/dev/null || echo "govmomi: no dpkg record"
  } | sha256sum | cut -d' ' -f1
}

mkdir -p "$bin_dir"
# One build at a time (parallel CI jobs, or a developer and the test runner).
exec 9>"$bin_dir/.build.lock"
flock 9

want="$(source_hash)"
if [ "${1:-}" != "--force" ] && [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "[vcsim] building $bin" >&2
start=$(date +%s)
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/go-build}"
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$here" && GO111MODULE=off GOFLAGS= GOPATH="$here:$gocode" go build -trimpath -o "$tmp" vcsimcbt)
mv -f "$tmp" "$bin"
printf '%s\n' "$want" > "$stamp"
echo "[vcsim] built in $(( $(date +%s) - start ))s" >&2
