/**
 * den-idmap, the setuid helper that makes idmapped mounts for rootless users (helpers/den-idmap/,
 * installed by scripts/setup-host.sh), and den-idmap-run, its unprivileged receiver. den looks for
 * them in fixed root-owned places only: a setuid helper found through a PATH the caller controls
 * would let anyone put their own program in its place.
 */
import { statSync } from 'node:fs';

/** Where the helpers may be installed, first found wins. */
export const IDMAP_HELPER_DIRS = ['/usr/local/libexec/den', '/usr/libexec/den'] as const;

/** The exit statuses of den-idmap, one per class of refusal (its header comment has the list). */
export const IDMAP_HELPER_STATUS = {
  ok: 0,
  system: 1,
  usage: 2,
  mapMalformed: 3,
  mapNotYours: 4,
  sourcePath: 5,
  sourceOwner: 6,
  notIdmappable: 7,
  handoff: 8,
  install: 9,
} as const;

export interface IdmapHelper {
  /** The setuid helper. */
  helper: string;
  /** Its receiver, which runs a command in the mount it receives. */
  runner: string;
}

/** The installed pair, or what is wrong with the first place that has one of them. */
export function findIdmapHelper(): { found: IdmapHelper } | { missing: string } {
  for (const dir of IDMAP_HELPER_DIRS) {
    const helper = `${dir}/den-idmap`;
    const runner = `${dir}/den-idmap-run`;
    const h = statOrUndefined(helper);
    if (!h) continue;
    if (h.uid !== 0 || (h.mode & 0o4000) === 0)
      return { missing: `${helper} is not setuid root (owner uid ${h.uid}, mode ${(h.mode & 0o7777).toString(8)})` };
    if (!statOrUndefined(runner)) return { missing: `${helper} is installed but ${runner} is not` };
    return { found: { helper, runner } };
  }
  return { missing: `den-idmap is not installed (looked in ${IDMAP_HELPER_DIRS.join(', ')})` };
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
