/**
 * den-idmap, the setuid helper that makes idmapped mounts for rootless users (helpers/den-idmap/,
 * installed by scripts/setup-host.sh), and den-idmap-run, its unprivileged receiver. den looks for
 * them in fixed root-owned places only: a setuid helper found through a PATH the caller controls
 * would let anyone put their own program in its place.
 */
import { statSync } from 'node:fs';
import { runSync } from '../common/exec.js';

/** Where the helpers may be installed, first found wins (DEN_IDMAP_HELPER_DIR replaces the list). */
export const IDMAP_HELPER_DIRS: readonly string[] = ['/usr/local/libexec/den', '/usr/libexec/den'];

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
export function findIdmapHelper(
  dirs: readonly string[] = IDMAP_HELPER_DIRS,
): { found: IdmapHelper } | { missing: string } {
  if (dirs.length === 0) return { missing: 'den-idmap is not used (DEN_IDMAP_HELPER_DIR is empty)' };
  for (const dir of dirs) {
    const helper = `${dir}/den-idmap`;
    const runner = `${dir}/den-idmap-run`;
    const h = statOrUndefined(helper);
    if (!h) continue;
    if (h.uid !== 0 || (h.mode & 0o4000) === 0)
      return { missing: `${helper} is not setuid root (owner uid ${h.uid}, mode ${(h.mode & 0o7777).toString(8)})` };
    if (!statOrUndefined(runner)) return { missing: `${helper} is installed but ${runner} is not` };
    return { found: { helper, runner } };
  }
  return { missing: `den-idmap is not installed (looked in ${dirs.join(', ')})` };
}

/**
 * Whether den-idmap makes an idmapped mount of `dir` (a directory of the caller's, on the store's
 * file system) for the caller: it maps the caller's own ids to themselves, read-only, and its
 * receiver only enters the mount. Nothing is attached; the mount goes with its last fd.
 */
export function probeIdmapHelper(
  bin: IdmapHelper,
  dir: string,
  ids: { uid: number; gid: number },
): { ok: true } | { ok: false; status: number; why: string } {
  const r = runSync(
    [
      bin.runner,
      bin.helper,
      '--uid-map',
      `${ids.uid}:${ids.uid}:1`,
      '--gid-map',
      `${ids.gid}:${ids.gid}:1`,
      '--source',
      dir,
      '--read-only',
      '--',
      'true',
    ],
    { env: { PATH: '/usr/bin:/bin' } },
  );
  return r.status === 0 ? { ok: true } : { ok: false, status: r.status, why: r.stderr.trim() || `status ${r.status}` };
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
