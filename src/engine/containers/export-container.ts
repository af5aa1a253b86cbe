import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { DenError, errnoCode, unavailable } from '../../common/errors.js';
import type { ContainerIdMap } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { shiftsIds } from '../../idmap/index.js';
import { MOUNT_ROOTFS, unmountRootfs } from '../../snapshots/index.js';
import { reconcile } from './container-state.js';
import { rootfsMountArgs } from './rootfs-mount.js';

/**
 * Inside the namespaces: mount the root file system unless it is (a running container's), write
 * it as a tar to stdout with the owners the container sees, and say nothing else on stdout.
 *   sh -c EXPORT den-export MOUNTED MOUNT_ROOTFS_ARGS(6) UID_MAP GID_MAP
 * The maps are flat "container host size" triplets of the container's maps, empty when the
 * container sees the ids as they are: tar then takes --owner-map and --group-map files that turn
 * each id found in the tree back into the container's.
 */
const EXPORT = `
set -e
mounted=$1; shift
if [ "$mounted" != yes ]; then ${MOUNT_ROOTFS} >&2; fi
root=$6; umap=$7; gmap=$8
maps=$(mktemp -d)
trap 'rm -rf "$maps"' EXIT
invert() { # FIELD MAP: "+found +container" for every owner in the tree
  find . -xdev -printf "%$1\\n" | sort -un | awk -v m="$2" 'BEGIN { n = split(m, a, " ") }
    { out = 65534; for (i = 1; i < n; i += 3) if ($1 >= a[i+1] && $1 < a[i+1] + a[i+2]) { out = a[i] + $1 - a[i+1]; break }
      print "+" $1 " +" out }'
}
cd "$root"
set -- --numeric-owner --xattrs --xattrs-include=security.capability
if [ -n "$umap" ]; then
  invert U "$umap" > "$maps/uid"; invert G "$gmap" > "$maps/gid"
  set -- "$@" --owner-map="$maps/uid" --group-map="$maps/gid"
fi
tar "$@" -cf - .
`;

/**
 * `den export`: a container's file system (image and changes, as the container sees them, owners
 * included) as a tar stream, running or not. A stopped container's root file system is mounted
 * for the time it takes and unmounted after; to a file, the tar is written under a temporary name
 * and renamed into place when complete.
 */
export async function exportContainer(
  ctx: EngineContext,
  ref: string,
  output: { path: string } | { stream: Writable },
): Promise<void> {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  const running = c.status === 'running';
  const idMap = c.config.idMap && shiftsIds(c.config.idMap) ? c.config.idMap : undefined;
  const flat = (m: ContainerIdMap['uid']) => m.map((e) => `${e.containerID} ${e.hostID} ${e.size}`).join(' ');
  const argv = ctx.ns.wrap([
    'sh',
    '-c',
    EXPORT,
    'den-export',
    running ? 'yes' : 'no',
    ...(running ? ['', '', '', '', '', ctx.layout.bundle(c.id).rootfs] : await rootfsMountArgs(ctx, c, false)),
    idMap ? flat(idMap.uid) : '',
    idMap ? flat(idMap.gid) : '',
  ]);
  const tmp = 'path' in output ? join(dirname(output.path), `.${process.pid}.den-export.tmp`) : undefined;
  let fd: number | undefined;
  try {
    fd = tmp !== undefined ? openSync(tmp, 'wx', 0o644) : undefined;
  } catch (e) {
    throw unavailable(
      'DEN0662',
      `cannot write ${'path' in output ? output.path : 'the archive'}: ${errnoCode(e) ?? (e as Error).message}`,
      {
        hint: 'give -o a path in a directory you can write to',
        cause: e,
      },
    );
  }
  try {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (fd === undefined && 'stream' in output) {
      child.stdout!.pipe(output.stream);
      output.stream.on('error', () => child.kill('SIGTERM'));
    }
    const status = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
    if (status !== 0) {
      throw new DenError(
        'FailedPrecondition',
        'DEN0661',
        `cannot export container ${c.name}: ${stderr.trim() || `status ${status}`}`,
      );
    }
    if (fd !== undefined && tmp !== undefined && 'path' in output) {
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, output.path);
    }
  } catch (e) {
    if (tmp !== undefined) rmSync(tmp, { force: true });
    throw e instanceof DenError
      ? e
      : unavailable('DEN0662', `cannot export container ${c.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (!running) unmountRootfs(ctx, c.id);
  }
}
