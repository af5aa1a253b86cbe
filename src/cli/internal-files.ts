import { chmodSync, createReadStream, createWriteStream, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { internal } from '../common/errors.js';
import { enterRoot } from '../common/libc.js';
import { containerId, fromOci, shiftId, toHost, unshiftId, type OciIdMaps } from '../idmap/index.js';
import { orphanCheck, serveWorker } from '../session/index.js';
import { upperChanges, upperLayer, type Change, type UpperRequest } from '../snapshots/index.js';
import { archiveFromRoot, extractIntoRoot, TarWriter, type CopySource, type UnpackStats } from '../unpack/index.js';

/** `den __files get`: a path of the container's root, archived to descriptor 3. */
export interface GetSpec {
  path: string;
  follow: boolean;
  container: string;
  /** The container's maps: the archive shows owners as the container sees them. */
  idMap?: OciIdMaps;
}

/** `den __files put`: an archive on stdin, unpacked into the container's root. */
export interface PutSpec {
  path: string;
  container: string;
  /** What the local side archived; absent for an archive from standard input. */
  source?: CopySource;
  readOnly: boolean;
  /** -a: entries keep the owners the archive gives them; otherwise the container's root owns them. */
  keepOwners: boolean;
  idMap?: OciIdMaps;
  canMknod: boolean;
}

/** `den __files diff` and `layer`: the container's upper directory against its image's layers. */
export type UpperSpec = Omit<UpperRequest, 'upper'>;

/**
 * `den __files OP DIR SPEC PARENT`: den's file worker, the half of `den cp`, `den diff` and
 * `den commit` that runs where the container's files are (inside the rootless session, where they
 * have the container's subordinate ids; as root, a child process all the same, since it confines
 * itself). SPEC is JSON; PARENT the pid of the den that waits. Answers with den's worker protocol
 * (session/worker.ts). Not a user command.
 *
 *   get    ROOTFS  enters the container's root and archives a path of it (to descriptor 3)
 *   put    ROOTFS  enters the container's root and unpacks standard input into it
 *   diff   UPPER   the container's changes
 *   layer  UPPER   the container's changes as an OCI layer tar (to descriptor 3)
 *   shift  DIR     enters DIR and gives every entry in it new owners: each id through `from`'s
 *                  maps back to a container id, then through `to`'s (absent: as it is)
 *
 * get and put enter the root (chroot) before they touch a path: see unpack/copy-archive.ts for why.
 */
export async function filesMain(args: readonly string[]): Promise<number> {
  const [op, dir, specJson, parentPid] = args;
  if (!op || !dir || !specJson || !parentPid) {
    process.stderr.write('usage: den __files get|put|diff|layer|shift DIR SPEC PARENT\n');
    return 2;
  }
  if (orphanCheck(parentPid)()) return 1;
  const unexpected = (e: unknown) =>
    internal('DEN0505', `den's file worker failed unexpectedly: ${(e as Error).message}`, { cause: e });
  switch (op) {
    case 'get': {
      const spec = JSON.parse(specJson) as GetSpec;
      return serveWorker<{ source: CopySource }, { bytes: number }>(unexpected, async (progress) => {
        const out = createWriteStream('', { fd: 3 });
        enterRoot(dir);
        const map = spec.idMap;
        const bytes = await archiveFromRoot(
          {
            path: spec.path,
            follow: spec.follow,
            container: spec.container,
            ...(map ? { owner: (uid, gid) => ({ uid: unshiftId(map.uid, uid), gid: unshiftId(map.gid, gid) }) } : {}),
          },
          out,
          (source) => progress({ source }),
        );
        return { bytes };
      });
    }
    case 'put': {
      const spec = JSON.parse(specJson) as PutSpec;
      return serveWorker<never, UnpackStats>(unexpected, async () => {
        // 1 MiB reads, as the layer unpacker takes them.
        const input = createReadStream('', { fd: 0, highWaterMark: 1 << 20 });
        enterRoot(dir);
        return extractIntoRoot(
          {
            path: spec.path,
            container: spec.container,
            ...(spec.source ? { source: spec.source } : {}),
            readOnly: spec.readOnly,
            unpack: {
              canMknod: spec.canMknod,
              owner: owners(spec),
              onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
            },
          },
          input,
        );
      });
    }
    case 'diff': {
      const spec = JSON.parse(specJson) as UpperSpec;
      return serveWorker<never, { changes: Change[] }>(unexpected, async () => ({
        changes: upperChanges({ ...spec, upper: dir }),
      }));
    }
    case 'layer': {
      const spec = JSON.parse(specJson) as UpperSpec;
      return serveWorker<never, { bytes: number }>(unexpected, async () => {
        const writer = new TarWriter(createWriteStream('', { fd: 3 }));
        await upperLayer({ ...spec, upper: dir }, writer);
        await writer.finish();
        return { bytes: writer.written };
      });
    }
    case 'shift': {
      const spec = JSON.parse(specJson) as ShiftSpec;
      return serveWorker<never, { entries: number }>(unexpected, async () => {
        enterRoot(dir);
        return { entries: shiftOwners('/', spec) };
      });
    }
    default:
      process.stderr.write(`den __files: unknown operation ${op}\n`);
      return 2;
  }
}

/** `den __files shift`: the maps a tree's owners are in, and the maps they are to be in. */
export interface ShiftSpec {
  from?: OciIdMaps;
  to?: OciIdMaps;
}

/** Gives every entry under `root` (itself included) its owners through the maps; never follows a symlink. */
function shiftOwners(root: string, spec: ShiftSpec): number {
  const move = (map: 'uid' | 'gid', id: number) => {
    const c = spec.from ? unshiftId(spec.from[map], id) : id;
    return spec.to ? shiftId(spec.to[map], c) : c;
  };
  let entries = 0;
  const visit = (path: string) => {
    const st = lstatSync(path);
    lchownSync(path, move('uid', st.uid), move('gid', st.gid));
    // chown clears setuid and setgid bits of files: give them back (a symlink has none).
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) chmodSync(path, st.mode & 0o7777);
    entries++;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(path === '/' ? `/${name}` : `${path}/${name}`);
  };
  visit(root);
  return entries;
}

/**
 * Who owns what a copy puts into the container, on disk: the archive's owners with -a, the
 * container's root otherwise (docker's documented rule), each through the container's maps.
 */
function owners(spec: PutSpec): (uid: number, gid: number) => { uid: number | undefined; gid: number | undefined } {
  const uidMap = spec.idMap ? fromOci(spec.idMap.uid) : undefined;
  const gidMap = spec.idMap ? fromOci(spec.idMap.gid) : undefined;
  const shift = (map: typeof uidMap, id: number): number | undefined => (map ? toHost(map, containerId(id)) : id);
  return (uid, gid) =>
    spec.keepOwners
      ? { uid: shift(uidMap, uid), gid: shift(gidMap, gid) }
      : { uid: shift(uidMap, 0), gid: shift(gidMap, 0) };
}
