#!/usr/bin/env bash
# Prepares a Debian 12 host for den. Idempotent; run as root.
#
#   scripts/setup-host.sh [--test-user NAME] [--bench-user NAME]
#
# Installs the packages den uses, fixes the quirks of these machines (DESIGN.md), and with
# --test-user creates an unprivileged user with subordinate id ranges for the test suite; with
# --bench-user, another for the benchmark (npm run bench), whose processes the bench kills between
# runs and which must therefore never be the test user.
set -euo pipefail

test_user=""
bench_user=""
while [ $# -gt 0 ]; do
  case "$1" in
    --test-user) test_user=${2:?--test-user needs a name}; shift 2 ;;
    --bench-user) bench_user=${2:?--bench-user needs a name}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup-host: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$test_user" ] && [ "$test_user" = "$bench_user" ]; then
  echo "setup-host: the bench user must not be the test user: the bench kills its user's processes" >&2
  exit 2
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup-host: run me as root" >&2
  exit 1
fi

say() { printf 'setup-host: %s\n' "$*"; }

# --- packages -----------------------------------------------------------------------------------
# crun/runc: OCI runtimes. conmon: the monitor of detached containers (run -d, start). uidmap:
# newuidmap/newgidmap for the rootless session. util-linux: unshare, nsenter, flock, mountpoint.
# passt/slirp4netns: user-mode networking. netavark/aardvark-dns: user-defined networks (bridges, names). busybox-static: the demo and test image.
# containers-common: the default seccomp profile. fuse-overlayfs: rootless id shifting without copies. xfsprogs: the tests' and benchmark's xfs with reflinks, where den
# shifts ids by copying instead. zstd: zstd-compressed layers. isal: igzip (ISA-L), which inflates gzip
# layers about 2.5 times as fast as zlib, in a process of its own. docker-registry, skopeo, openssl,
# apache2-utils (htpasswd): the tests' local registry over http and https with basic auth, and the
# reference client for round trips. gcc, libc6-dev: den-idmap, built from helpers/ below.
packages=(crun runc conmon uidmap util-linux passt slirp4netns netavark aardvark-dns iptables busybox-static golang-github-containers-common
  fuse-overlayfs xfsprogs procps zstd isal docker-registry skopeo openssl apache2-utils gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The docker CLI, alone, for the API tests (test/api.test.ts): Debian's docker.io package would
# bring dockerd, containerd and runc and start the daemon, so only its client binary is taken from
# the package, and no service is installed or started. A docker already on PATH is left as it is.
if ! command -v docker >/dev/null; then
  say "installing the docker CLI (the client alone, from Debian's docker.io)"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq docker.io >/dev/null && dpkg-deb -x docker.io_*.deb root)
  install -m 0755 "$tmp/root/usr/bin/docker" /usr/local/bin/docker
  rm -rf "$tmp"
fi

# --- host quirks ----------------------------------------------------------------------------------
# /dev/net/tun and /dev/fuse are 0600 here; every distribution ships them 0666 so that
# unprivileged users can use tun (pasta, slirp4netns) and FUSE (fuse-overlayfs).
for dev in /dev/net/tun /dev/fuse; do
  if [ -c "$dev" ] && [ "$(stat -c %a "$dev")" != 666 ]; then
    chmod 0666 "$dev"
    say "made $dev usable by unprivileged users (0666)"
  fi
done

# A hybrid cgroup layout whose v2 hierarchy carries a controller (hugetlb here) makes crun refuse
# every container ("cgroups in hybrid mode not supported"). Binding hugetlb to a v1 hierarchy of
# its own moves it out of the unified one.
unified=/sys/fs/cgroup/unified
if [ -r "$unified/cgroup.controllers" ] && grep -qw hugetlb "$unified/cgroup.controllers"; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mountpoint -q /sys/fs/cgroup/hugetlb || mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  say "bound the hugetlb controller to /sys/fs/cgroup/hugetlb (cgroup v1)"
fi

# Some kernels gate unprivileged user namespaces behind a sysctl.
if [ -w /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" = 0 ]; then
  echo 1 > /proc/sys/kernel/unprivileged_userns_clone
  say "enabled unprivileged user namespaces"
fi

# There is no systemd login session, so no /run/user/UID: den falls back to /tmp/den-run-UID,
# which it checks is private to the user. Nothing to do here.

# --- den-idmap ----------------------------------------------------------------------------------
# The setuid helper that gives rootless users idmapped mounts of their own directories (docs/rootless.md),
# and its unprivileged receiver. Built from this checkout and installed outside it: a setuid binary
# belongs in a root-owned directory, not in a tree its user can rename things in. Reinstalled only
# when the build differs, so the script stays idempotent.
helpers_src="$(cd "$(dirname "$0")/.." && pwd)/helpers/den-idmap"
libexec=/usr/local/libexec/den
if [ -f "$helpers_src/den-idmap.c" ]; then
  build=$(mktemp -d)
  cflags=(-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now)
  gcc "${cflags[@]}" -o "$build/den-idmap" "$helpers_src/den-idmap.c"
  gcc "${cflags[@]}" -o "$build/den-idmap-run" "$helpers_src/den-idmap-run.c"
  install -d -m 0755 -o root -g root "$libexec"
  for prog in den-idmap den-idmap-run; do
    mode=0755
    [ "$prog" = den-idmap ] && mode=4755
    if ! cmp -s "$build/$prog" "$libexec/$prog" || [ "$(stat -c '%a %u' "$libexec/$prog")" != "${mode#0} 0" ]; then
      install -m "$mode" -o root -g root "$build/$prog" "$libexec/$prog"
      say "installed $libexec/$prog (mode $mode)"
    fi
  done
  rm -rf "$build"
fi

# --- test user ----------------------------------------------------------------------------------
# Subordinate ranges: a user gets blocks of free ids from 200000 upward until they hold `size` in
# all (an existing entry counts, so a user who has 65536 and needs more gets a second block).
add_range() { # file user [start size]
  local file=$1 user=$2 start=${3:-200000} size=${4:-65536}
  touch "$file"
  local have
  have=$(awk -F: -v u="$user" '$1 == u && NF == 3 { n += $3 } END { print n + 0 }' "$file")
  [ "$have" -ge "$size" ] && return 0
  size=$((size - have))
  while awk -F: -v s="$start" -v n="$size" '$0 !~ /^#/ && NF == 3 && s < $2 + $3 && $2 < s + n { found = 1 } END { exit !found }' "$file"; do
    start=$((start + 65536))
  done
  echo "$user:$start:$size" >> "$file"
  say "gave $user the subordinate range $start-$((start + size - 1)) in $file"
}

# Root mode's pool: every container run by root gets a range of its own from the subordinate ids
# of the system user den (--userns=auto), a billion ids above the ones users get.
if ! id den > /dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin den
  say "created the system user den, owner of root mode's id pool"
fi
add_range /etc/subuid den 1000000000 1000000000
add_range /etc/subgid den 1000000000 1000000000

# An unprivileged user with four ranges of 65536 subordinate ids, from blocks nobody else holds:
# enough for --userns=auto containers side by side, and below what makes auto the rootless
# default, so both defaults stay covered.
unprivileged_user() { # name
  if ! id "$1" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$1"
    say "created user $1"
  fi
  add_range /etc/subuid "$1" 200000 262144
  add_range /etc/subgid "$1" 200000 262144
}

if [ -n "$test_user" ]; then
  # tmux drives interactive sessions in the end-to-end tests (a terminal that can be resized);
  # iperf3 is their UDP service behind a published port (the test image's busybox has none).
  if ! command -v tmux > /dev/null || ! command -v iperf3 > /dev/null; then
    say "installing tmux and iperf3 for the test suite"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tmux iperf3 > /dev/null
  fi
  # The toolbox test (test/toolbox.test.ts) starts an X server and a sound server for the user
  # (Xvfb, xauth, PulseAudio), looks at the screen (xwininfo, xwd), and builds its Debian image
  # from a debootstrap root.
  if ! command -v Xvfb > /dev/null || ! command -v xwd > /dev/null || ! command -v xwininfo > /dev/null ||
    ! command -v xauth > /dev/null || ! command -v pulseaudio > /dev/null || ! command -v debootstrap > /dev/null; then
    say "installing Xvfb, x11-apps, x11-utils, xauth, pulseaudio and debootstrap for the toolbox test"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      xvfb x11-apps x11-utils xauth pulseaudio pulseaudio-utils debootstrap > /dev/null
  fi
  unprivileged_user "$test_user"
  # A user without subordinate ids, whom den-idmap must refuse anything but their own id
  # (test/idmap-helper.test.ts).
  if ! id "$test_user-noids" >/dev/null 2>&1; then
    useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$test_user-noids"
    say "created user $test_user-noids, who has no subordinate ids"
  fi
  # useradd gives new users subordinate ids (SUB_UID_COUNT in login.defs): take them back.
  for f in /etc/subuid /etc/subgid; do
    if grep -q "^$test_user-noids:" "$f"; then
      sed -i "/^$test_user-noids:/d" "$f"
      say "removed the subordinate ids of $test_user-noids from $f"
    fi
  done
fi
if [ -n "$bench_user" ]; then
  unprivileged_user "$bench_user"
fi
say "done"
