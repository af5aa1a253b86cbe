/** `den system check`'s probe of the subordinate ids in /etc/subuid and /etc/subgid. */
import { fail, ok, SETUP_SCRIPT, warn, type Finding, type Host } from '../common/host-check.js';
import { isDenError } from '../common/errors.js';
import type { IdRange } from './ids.js';
import { rangesSize } from './ranges.js';
import { freeSubordinateRange, readSubordinateRanges } from './subid.js';

/**
 * The subordinate `kind`s den can use: rootless, the caller's own ranges (the session maps them);
 * as root, the pool of `rootPoolUser`, from which each container gets a range (--userns=auto).
 */
export function checkSubordinateIds(h: Host, kind: 'uid' | 'gid', rootPoolUser: string): Finding {
  const file = kind === 'uid' ? h.subuidFile : h.subgidFile;
  const owner = h.rootless ? { name: h.userName, uid: h.uid } : { name: rootPoolUser, uid: -1 };
  let ranges: IdRange[];
  try {
    ranges = readSubordinateRanges(kind, owner, file);
  } catch (e) {
    // A malformed line is a finding (the error names file and line), not a broken check.
    if (isDenError(e)) return fail(e.message, e.hint);
    throw e;
  }
  if (ranges.length === 0 && !h.rootless) {
    return warn(
      `no ${rootPoolUser} range in ${file}: as root, containers map ids one to one instead of getting a range of their own (--userns=auto)`,
      `run ${SETUP_SCRIPT}, or add "${rootPoolUser}:1000000000:1000000000" to /etc/subuid and /etc/subgid`,
    );
  }
  if (!h.rootless) {
    return ok(
      `root mode's pool: ${rangesSize(ranges)} ${kind}s of ${rootPoolUser} in ${file} (${spans(ranges)}) for --userns=auto`,
    );
  }
  if (ranges.length === 0) {
    return fail(
      `no subordinate ${kind} range for ${h.userName} (uid ${h.uid}) in ${file}`,
      addRangeCommand(h.userName, [h.subuidFile, h.subgidFile]),
    );
  }
  const total = rangesSize(ranges);
  const detail = `${total} ${kind}s for ${h.userName} in ${file} (${spans(ranges)})`;
  // Container ids 1..total map onto the ranges; nobody (65534) must be among them for most images.
  if (total < 65534) {
    return warn(
      `${detail}: fewer than 65534, so images with files owned by nobody (65534) cannot be used`,
      `usermod --add-sub${kind}s 100000-165535 ${h.userName} (or another free block of 65536)`,
    );
  }
  return ok(detail);
}

/** Ranges as the host ids they span, first-last: `100000-165535, 200000-396607`. */
function spans(ranges: readonly IdRange[]): string {
  return ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ');
}

/** The usermod line that gives `user` a range nobody in `files` has yet (not a fixed example that may be taken). */
export function addRangeCommand(user: string, files: readonly string[]): string {
  const { first, last } = freeSubordinateRange(files);
  return `usermod --add-subuids ${first}-${last} --add-subgids ${first}-${last} ${user}`;
}
