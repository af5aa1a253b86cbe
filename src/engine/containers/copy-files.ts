import { PassThrough, type Readable, type Writable } from 'node:stream';
import { posix } from 'node:path';
import {
  DenError,
  errnoCode,
  failedPrecondition,
  internal,
  isDenError,
  notFound,
  unavailable,
} from '../../common/errors.js';
import { mountsOf, type ContainerRecord } from '../../containers/index.js';
import { runWorker } from '../../session/index.js';
import {
  containerPath,
  destinationInfo,
  prepareArchiveCopy,
  renameTop,
  sourceInfo,
  splitPathDirEntry,
  TarWriter,
  TreePacker,
  unpackCopy,
  type CopySource,
  type UnpackStats,
} from '../../unpack/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from './container-state.js';
import { withRootfs } from './rootfs-mount.js';

/**
 * `den cp`, both ways, for containers in any status. Two halves, as docker has them:
 *
 *   the container's half   den's file worker (`den __files get|put`, cli/internal-files.ts), which
 *                          enters the container's root file system (chroot) before it looks at a
 *                          path, so no symlink in the container leads it outside: what docker's
 *                          daemon does for GET and PUT /containers/ID/archive
 *   the local half         den's own process, with the caller's rights: the local path archived
 *                          or the archive unpacked there, by docker's rules (unpack/copy-rules.ts):
 *                          what docker's client does
 *
 * The worker runs inside the rootless session (where the container's files have their subordinate
 * ids), on the container's root file system: a running container's as its runtime mounted it, a
 * stopped one's mounted for the copy (`withRootfs`). Between the halves goes a tar stream, which is
 * also what `-` reads or writes.
 *
 * Bind mounts are not mounted there: a path under one is refused (copy the bind's source instead).
 */
export interface CopyFromContainer {
  container: string;
  /** The path inside the container, as given. */
  path: string;
  /** -L: a symlink at the end of the path is followed. */
  followLink: boolean;
}

export interface CopyToContainer {
  container: string;
  path: string;
  /** -a: files keep their owners (as container ids); otherwise the container's root owns them. */
  keepOwners: boolean;
}

/**
 * The archive of a container's path to `out` (docker's GET archive; `den cp C:PATH -`), with
 * owners as the container sees them. `onSource` hears what the path is before the first byte.
 * `out` is not ended. Returns the archive's size.
 */
export async function archiveFromContainer(
  ctx: EngineContext,
  spec: CopyFromContainer,
  out: Writable,
  onSource: (source: CopySource) => void = () => {},
): Promise<number> {
  const c = reconcile(ctx, ctx.containers.resolve(spec.container));
  refuseBindMounts(c, spec.path);
  const map = c.config.idMap;
  const args = { path: spec.path, follow: spec.followLink, container: spec.container, ...(map ? { idMap: map } : {}) };
  // A reader that went away (`den cp C:/ - | head`) is why the worker stopped: say that, not its EPIPE.
  let outFailed: unknown;
  const onError = (e: unknown) => (outFailed ??= e);
  out.on('error', onError);
  try {
    return await withRootfs(ctx, c, async (rootfs) => {
      const r = await runWorker<{ source: CopySource }, { bytes: number }>(
        ctx.ns,
        ctx.config.self,
        '__files',
        ['get', rootfs, JSON.stringify(args)],
        { output: out, onProgress: (p) => onSource(p.source), noAnswer: workerGone },
      );
      return r.bytes;
    });
  } catch (e) {
    if (outFailed !== undefined) {
      throw unavailable(
        'DEN0669',
        `cannot write the archive: ${errnoCode(outFailed) ?? (outFailed as Error).message}`,
        {
          cause: outFailed,
        },
      );
    }
    throw e;
  } finally {
    out.off('error', onError);
  }
}

/**
 * Unpacks an archive into a container (docker's PUT archive; `den cp - C:DIR`): `source` is what
 * the archive holds when the local half made it (docker's rules then say where it lands), absent
 * for an archive from standard input, which is unpacked into PATH, a directory.
 */
export async function extractToContainer(
  ctx: EngineContext,
  spec: CopyToContainer & { source?: CopySource },
  input: Readable,
): Promise<UnpackStats> {
  const c = reconcile(ctx, ctx.containers.resolve(spec.container));
  refuseBindMounts(c, spec.path);
  const map = c.config.idMap;
  const args = {
    path: spec.path,
    container: spec.container,
    ...(spec.source ? { source: spec.source } : {}),
    readOnly: c.config.readOnly,
    keepOwners: spec.keepOwners,
    ...(map ? { idMap: map } : {}),
    canMknod: !ctx.paths.rootless,
  };
  return withRootfs(ctx, c, (rootfs) =>
    runWorker<never, UnpackStats>(ctx.ns, ctx.config.self, '__files', ['put', rootfs, JSON.stringify(args)], {
      stdin: input,
      noAnswer: workerGone,
    }),
  );
}

/**
 * `den cp C:PATH DEST`: the container's path lands on the local DEST (absolute) by docker's rules,
 * owned by the caller. Returns the archive's size (docker's "Successfully copied").
 */
export async function copyFromContainer(
  ctx: EngineContext,
  spec: CopyFromContainer & { dest: string },
): Promise<number> {
  const local = (p: string) => p;
  // docker checks the destination before it asks the container for anything.
  const dst = localPath(spec.dest, () => destinationInfo(spec.dest, local));
  const archive = new PassThrough({ highWaterMark: 1 << 20 });
  let failedFirst: 'container' | 'local' | undefined;
  let source!: (s: CopySource) => void;
  const sourceKnown = new Promise<CopySource>((resolve) => (source = resolve));
  const container = archiveFromContainer(ctx, spec, archive, source).catch((e: unknown) => {
    failedFirst ??= 'container';
    archive.destroy();
    throw e;
  });
  container.catch(() => {}); // awaited below
  const src = await Promise.race([sourceKnown, container.then(() => undefined)]);
  if (src === undefined) throw internal('DEN0505', "den's file worker archived a path without saying what it was");
  let unpacking: Promise<unknown>;
  try {
    const plan = prepareArchiveCopy(src, dst, local);
    // The worker names the entries after the path it archived; -L names them after the link.
    const [, archived] = splitPathDirEntry(src.path);
    const top = archived === '/' ? '.' : archived;
    const fromLink = src.rebaseName !== undefined ? renameTop(top, src.rebaseName) : undefined;
    const toDest = plan.rename ? renameTop(plan.rename.from, plan.rename.to) : undefined;
    unpacking = unpackCopy(archive, plan.dir, {
      canMknod: !ctx.paths.rootless,
      onWarning: (m) => ctx.events.warning(m),
      rename: (name) => {
        const n = fromLink ? fromLink(name) : name;
        return toDest ? toDest(n) : n;
      },
    }).catch((e: unknown) => {
      failedFirst ??= 'local';
      archive.destroy();
      throw e;
    });
  } catch (e) {
    archive.destroy();
    await container.catch(() => {});
    throw e;
  }
  unpacking.catch(() => {});
  const [bytes, unpacked] = await Promise.allSettled([container.finally(() => archive.end()), unpacking]);
  if (failedFirst === 'local' && unpacked.status === 'rejected') throw unpacked.reason;
  if (bytes.status === 'rejected') throw bytes.reason;
  if (unpacked.status === 'rejected') throw unpacked.reason;
  return bytes.value;
}

/**
 * `den cp SRC C:PATH`: the local SRC (absolute; -L follows a symlink at its end) is archived with
 * its owners and unpacked into the container by docker's rules. Returns the archive's size.
 */
export async function copyToContainer(
  ctx: EngineContext,
  spec: CopyToContainer & { src: string; followLink: boolean },
): Promise<number> {
  const src = localPath(spec.src, () => sourceInfo(spec.src, spec.followLink));
  const archive = new PassThrough({ highWaterMark: 1 << 20 });
  const writer = new TarWriter(archive);
  let failedFirst: 'container' | 'local' | undefined;
  const packing = (async () => {
    const packer = new TreePacker(writer, { access: 'anchored' });
    const [, base] = splitPathDirEntry(src.path);
    const name = src.rebaseName ?? (base === '/' ? '.' : base);
    const path = src.path.replace(/\/\.?$/, '') || '/';
    if (!(await packer.addTree(latin1(path), latin1(name)))) throw missingLocal(spec.src);
    await writer.finish();
  })().catch((e: unknown) => {
    failedFirst ??= 'local';
    archive.destroy();
    throw isDenError(e) ? e : unreadable(spec.src, e);
  });
  packing.catch(() => {});
  const extracting = extractToContainer(ctx, { ...spec, source: src }, archive).catch((e: unknown) => {
    failedFirst ??= 'container';
    archive.destroy();
    throw e;
  });
  const [packed, extracted] = await Promise.allSettled([packing, extracting]);
  if (failedFirst === 'local' && packed.status === 'rejected') throw packed.reason;
  if (extracted.status === 'rejected') throw extracted.reason;
  if (packed.status === 'rejected') throw packed.reason;
  return writer.written;
}

/**
 * den cp works on the root file system, where a container's mounts (binds, volumes, tmpfs) are not:
 * they are in the container's own mount namespace. A path in one is refused, with where to go instead.
 */
function refuseBindMounts(c: ContainerRecord, path: string): void {
  const p = posix.normalize(containerPath(path)).replace(/\/+$/, '') || '/';
  for (const m of mountsOf(c.config)) {
    const d = posix.normalize(m.destination).replace(/\/+$/, '') || '/';
    if (p === d || p.startsWith(`${d}/`)) {
      const what =
        m.type === 'bind'
          ? `a bind mount (-v ${m.source}:${m.destination})`
          : m.type === 'volume'
            ? `volume ${m.name}`
            : 'a tmpfs mount';
      throw failedPrecondition('DEN0667', `container ${c.name}: ${path} is in ${what}`, {
        hint:
          m.type === 'bind'
            ? `den cp does not reach into bind mounts: copy to or from ${m.source} directly`
            : m.type === 'volume'
              ? `den cp does not reach into volumes: copy through a container that mounts it, or to \`den volume inspect -f '{{.Mountpoint}}' ${m.name}\``
              : 'den cp does not reach into tmpfs mounts: use den exec',
      });
    }
  }
}

/** A local path's look-up, its failures as den's errors (docker prints the system call's). */
function localPath<T>(path: string, look: () => T): T {
  try {
    return look();
  } catch (e) {
    if (isDenError(e)) throw e;
    if (errnoCode(e) === 'ENOENT') throw missingLocal(path);
    throw unreadable(path, e);
  }
}

const missingLocal = (path: string): DenError =>
  notFound('DEN0668', `no such file or directory: ${path}`, { hint: 'the local path, or its directory, must exist' });

const unreadable = (path: string, e: unknown): DenError =>
  unavailable('DEN0669', `${path}: ${errnoCode(e) ?? (e as Error).message}`, { cause: e });

const workerGone = (status: number): DenError =>
  internal('DEN0505', `den's file worker exited with status ${status} without an answer`);

const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
