#!/bin/sh
# Writes a root file system tarball built from the host's busybox-static: the demo and test image.
#   scripts/make-busybox-rootfs.sh OUTPUT.tar
# Files belong to root except /home/user (uid 1000), so the image exercises id mapping.
set -eu
out=${1:?usage: make-busybox-rootfs.sh OUTPUT.tar}
busybox=$(command -v busybox) || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home/user" "$root/var" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GROUP
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
# Without root, tar's --owner options still record the ids we want.
tar -C "$root" --numeric-owner --owner=0 --group=0 --exclude=./home/user -cf "$out" .
tar -C "$root" --numeric-owner --owner=1000 --group=1000 -rf "$out" ./home/user
