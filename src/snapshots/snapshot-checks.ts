/**
 * `den system check`'s probes for what the snapshotters need: overlayfs in a user namespace (every
 * snapshotter), idmapped mounts (root's per-container ranges), and fuse-overlayfs with /dev/fuse
 * (the rootless shift that copies nothing).
 */
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runSync } from '../common/exec.js';
import { nearestExisting } from '../common/fs.js';
import {
  checkDevice,
  checkTool,
  fail,
  missingUnshare,
  ok,
  SETUP_SCRIPT,
  warn,
  type Finding,
  type Host,
} from '../common/host-check.js';
import { cloneMount, idmapMount } from '../common/libc.js';
import { withUnmappedUserns } from '../session/index.js';
import { findIdmapHelper, IDMAP_HELPER_STATUS, probeIdmapHelper } from './idmap-helper.js';
import { overlayMountOptions } from './overlay.js';

/**
 * Mounts overlayfs the way den mounts a container's rootfs, inside a fresh user and mount namespace,
 * then writes a file and deletes a lower one: the write must land in the upper directory and the
 * delete must leave a whiteout (a 0/0 character device), which is what containers rely on.
 */
const OVERLAY_PROBE = `
set -e
cd "$1"
mkdir lower upper work merged
echo image > lower/kept
echo image > lower/deleted
mount -t overlay -o "$2" overlay merged
echo container > merged/written
rm merged/deleted
[ "$(cat merged/kept)" = image ] || { echo "a lower file is not visible through the overlay" >&2; exit 1; }
[ -f upper/written ] || { echo "a file written through the overlay is not in the upper directory" >&2; exit 1; }
[ -c upper/deleted ] || { echo "deleting a lower file left no whiteout in the upper directory" >&2; exit 1; }
`;

export function checkOverlay(h: Host): Finding {
  const unshare = h.find('unshare');
  if (!unshare) return missingUnshare(h, 'not probed: ');
  const { dir, where } = probeDir(h);
  try {
    const options = overlayMountOptions({
      lowerDirs: [join(dir, 'lower')],
      upperDir: join(dir, 'upper'),
      workDir: join(dir, 'work'),
      target: join(dir, 'merged'),
    });
    const r = runSync(
      [unshare, '--user', '--map-root-user', '--mount', 'sh', '-c', OVERLAY_PROBE, 'den-overlay-probe', dir, options],
      { env: h.env },
    );
    const fs = h.fsType(dir);
    if (r.status !== 0) {
      return fail(
        `overlay mount with userxattr in a user namespace on ${fs} (${where}) failed: ${r.stderr.trim() || `status ${r.status}`}`,
        'use a kernel of 5.11 or later and keep the data directory on ext4, xfs or btrfs (DEN_DATA_DIR)',
      );
    }
    return ok(`mounted, wrote and deleted through overlay (userxattr) on ${fs} in ${where}`);
  } finally {
    // overlayfs leaves work/work with mode 000; outside the namespace we are not root, so open it first.
    try {
      chmodSync(join(dir, 'work', 'work'), 0o700);
    } catch {
      // not created: the mount never happened
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A temporary directory on the store's file system: inside the data directory if it exists, else
 * in the nearest existing parent that is writable (the data directory itself is not created), else
 * in the system's temporary directory.
 */
function probeDir(h: Host): { dir: string; where: string } {
  let parent = h.dataDir;
  for (;;) {
    try {
      if (statSync(parent).isDirectory()) {
        accessSync(parent, constants.W_OK | constants.X_OK);
        return { dir: mkdtempSync(join(parent, '.den-check-')), where: parent };
      }
    } catch {
      // missing or not writable: try the parent
    }
    const up = dirname(parent);
    if (up === parent) break;
    parent = up;
  }
  const tmp = tmpdir();
  return {
    dir: mkdtempSync(join(tmp, 'den-check-')),
    where: `${tmp} (the data directory's file system is not writable)`,
  };
}

/** The probe namespace maps id 0 to this host id, and every id above it likewise shifted. */
const PROBE_SHIFT = 100000;

/**
 * As root, makes an idmapped clone of the store's mount and looks at the owner of its root through
 * it; rootless, says why the kernel would refuse, without trying.
 */
export function checkIdmappedMounts(h: Host): Finding {
  const store = nearestExisting(h.dataDir);
  const fs = h.fsType(store);
  const kernel = release();
  const [major = 0, minor = 0] = kernel.split('.').map((n) => parseInt(n, 10));
  const kernelHas = major > 5 || (major === 5 && minor >= 12);
  if (!kernelHas) {
    return warn(
      `kernel ${kernel} predates idmapped mounts (5.12): per-container ranges need shifted copies or fuse-overlayfs`,
      'use a kernel of 5.12 or later',
    );
  }
  if (h.rootless) {
    return warn(
      `inferred, not probed: an idmapped mount needs CAP_SYS_ADMIN over the user namespace that owns the ` +
        `file system, which an unprivileged user has only for file systems mounted in their own namespace (tmpfs), ` +
        `not for the store's ${fs} (${store}). For --userns=auto, keep-id and --uidmap den shifts ids another ` +
        `way (see userns-shift below); --userns=host needs no shift`,
    );
  }
  const unshare = h.find('unshare');
  if (!unshare) return missingUnshare(h, 'not probed: ');
  const owner = statSync(store).uid;
  return withUnmappedUserns(unshare, (pid) => {
    const map = `0 ${PROBE_SHIFT} ${0xffffffff - PROBE_SHIFT}\n`;
    writeFileSync(`/proc/${pid}/uid_map`, map);
    writeFileSync(`/proc/${pid}/gid_map`, map);
    const nsFd = openSync(`/proc/${pid}/ns/user`, 'r');
    let treeFd: number | undefined;
    try {
      // A detached clone of the mount, idmapped, then only looked at: it is never attached
      // anywhere, and it disappears when the descriptor is closed.
      treeFd = cloneMount(store);
      idmapMount(treeFd, nsFd);
      const seen = fstatSync(treeFd).uid;
      const expected = owner + PROBE_SHIFT;
      if (seen !== expected) {
        return warn(`an idmapped bind mount of ${store} (${fs}) showed owner ${owner} as ${seen}, not ${expected}`);
      }
      return ok(
        `an idmapped bind mount of ${store} (${fs}) works: owner ${owner} shows as ${seen} (probed with open_tree and mount_setattr)`,
      );
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      return warn(
        `the kernel refuses an idmapped bind mount of ${store} (${fs}): ${code}; per-container ranges need shifted copies`,
        'keep the data directory (DEN_DATA_DIR) on ext4, xfs or btrfs',
      );
    } finally {
      if (treeFd !== undefined) closeSync(treeFd);
      closeSync(nsFd);
    }
  });
}

/**
 * Rootless: whether den-idmap is installed setuid root and makes an idmapped mount here. It is run
 * for real on a temporary directory beside the store, with the caller's own uid and gid mapped to
 * themselves, and its receiver only enters the mount: nothing is attached, and the mount goes
 * with its last fd.
 */
export function checkIdmapHelper(h: Host, dirs: readonly string[]): Finding {
  const where = findIdmapHelper(dirs);
  if ('missing' in where) {
    return warn(
      `${where.missing}: rootless containers with ranges of their own shift ids with fuse-overlayfs or copies`,
      `run ${SETUP_SCRIPT} as root (it builds helpers/den-idmap with gcc)`,
    );
  }
  const { helper } = where.found;
  if (!h.rootless) return ok(`${helper} is setuid root; root mode makes idmapped mounts itself`);
  const { dir, where: place } = probeDir(h);
  try {
    const fs = h.fsType(place);
    const r = probeIdmapHelper(where.found, dir, h);
    if (!r.ok) {
      return warn(
        `${helper} is setuid root but made no idmapped mount of ${place} (${fs}): ${r.why}`,
        r.status === IDMAP_HELPER_STATUS.notIdmappable
          ? 'keep the data directory (DEN_DATA_DIR) on ext4, xfs or btrfs (tmpfs from kernel 6.3)'
          : undefined,
      );
    }
    return ok(`${helper} is setuid root and made an idmapped mount of ${place} (${fs}) for you (probed)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- 7. cgroups ---------------------------------------------------------------------------------

/** /dev/fuse, which fuse-overlayfs opens. */
export function checkFuseDevice(h: Host): Finding {
  return checkDevice(h, '/dev/fuse', 'fuse');
}

/** fuse-overlayfs, with which a rootless container sees the layers shifted without copies. */
export function checkFuseOverlayfs(h: Host): Finding {
  return checkTool(h, 'fuse-overlayfs', 'warn', 'apt-get install fuse-overlayfs', /^fuse-overlayfs: (version .*)$/m);
}
