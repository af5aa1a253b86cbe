#!/bin/sh
# The README's first command ends here: builds a busybox image from the host's busybox-static,
# imports it with `den import` and runs a container from it, as USER (rootless) when given and
# run as root, else as whoever runs it.
#   scripts/demo.sh [USER]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tarball=$(mktemp /tmp/den-demo-XXXXXX.tar)
trap 'rm -f "$tarball"' EXIT
sh "$here/scripts/make-busybox-rootfs.sh" "$tarball"
chmod 0644 "$tarball"
as() {
  if [ -n "${1:-}" ] && [ "$(id -u)" = 0 ]; then
    user=$1; shift
    runuser -u "$user" -- env -C / HOME="$(getent passwd "$user" | cut -d: -f6)" "$@"
  else
    shift; "$@"
  fi
}
den="$here/bin/den"
if [ -n "${1:-}" ] && [ "$(id -u)" = 0 ] && ! runuser -u "$1" -- test -r "$here/dist/den.cjs"; then
  echo "demo: $1 cannot read $here (or it is not built: npm run build); clone it where $1 can read it, e.g. /tmp" >&2
  exit 1
fi
as "${1:-}" "$den" import "$tarball" demo/busybox:latest
as "${1:-}" "$den" run --rm --network none demo/busybox sh -c 'echo "hello from a den container: $(id)"; cat /proc/self/uid_map'
