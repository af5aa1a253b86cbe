import { userInfo } from 'node:os';
import { resolvePaths, type DenPaths } from '../common/paths.js';
import { invalidArgument } from '../common/errors.js';
import { findExecutable } from '../common/exec.js';
import { DEFAULT_RUNTIME } from '../runtime/index.js';
import { IDMAP_HELPER_DIRS } from '../snapshots/index.js';
import { defaultNetworkSetting, defaultUsernsSetting } from './config-files.js';

/**
 * Everything the engine takes from the caller's world, read once at the edge (the CLI, or an API
 * server at its start) and passed in. The engine itself never reads `process.env`: inside a server
 * the process environment is the server's, not the client's, and a container must not inherit it.
 *
 * The variables, for the CLI (`engineConfigFromEnv`):
 *   DEN_DATA_DIR, DEN_RUNTIME_DIR, XDG_DATA_HOME, XDG_RUNTIME_DIR, HOME  where den keeps its files
 *   PATH                   where crun, runc, fuse-overlayfs and unshare are looked up
 *   DEN_RUNTIME            the OCI runtime of containers created without --runtime (crun)
 *   DEN_USERNS             --userns when a container is created without one (as PODMAN_USERNS);
 *                          else `userns` in den.conf or containers.conf (config-files.ts)
 *   DEN_NETWORK            --network when a container is created without one (pasta, slirp4netns,
 *                          host, none, a network); else `network` in den.conf (config-files.ts)
 *   DEN_USERNS_AUTO_MIN/MAX  the bounds of an auto range's size
 *   DEN_SHIFT              how rootless ids are shifted: auto (den chooses), copy, fuse or helper
 *   DEN_IDMAP_HELPER_DIR   where den-idmap is installed (`:`-separated; /usr/local/libexec/den and
 *                          /usr/libexec/den by default; empty: den does not use it)
 *   DEN_GC_GRACE_SECONDS   how young unreferenced blobs and layers are spared by garbage collection
 *   DEN_REGISTRY_TIMEOUT_SECONDS  how long a registry may leave a request unanswered (30)
 *   DEN_MAX_LAYER_RATIO    how many times its compressed size a layer may unpack to (100; 0: no bound)
 *   DEN_GZIP               what inflates gzip layers: igzip (ISA-L's, the default where it is in
 *                          PATH) or zlib (Node's own)
 *   DEN_CGROUP_PARENT      the cgroup containers' cgroups go in: /den as root; rootless, a delegated
 *                          cgroup v2 (found from den's own cgroup when unset)
 */
export interface EngineConfig {
  readonly paths: DenPaths;
  /** The caller: ids and the name its /etc/subuid and /etc/subgid lines may use. */
  readonly user: { readonly uid: number; readonly gid: number; readonly name: string };
  /** The directories executables are looked up in, as PATH lists them. */
  readonly searchPath: string;
  /** The OCI runtime a container gets when its spec names none: crun, or DEN_RUNTIME. */
  readonly defaultRuntime: string;
  /** The --userns a container gets when its spec names none; undefined: den chooses (defaultUserns). */
  readonly defaultUserns: string | undefined;
  /** Where defaultUserns was set: DEN_USERNS, or a configuration file and line. */
  readonly defaultUsernsFrom?: string;
  /** The network a container gets when its spec names none (DEN_NETWORK, den.conf); undefined: pasta, else slirp4netns. */
  readonly defaultNetwork?: string;
  /** Bounds of the size of an `auto` range. */
  readonly autoRange: { readonly min: number; readonly max: number };
  /** How a rootless container's ids are shifted: `auto` lets den choose (snapshots' chooseShift). */
  readonly shift: ShiftPreference;
  /** The directories den-idmap and den-idmap-run are looked for in, first found wins; none: not used. */
  readonly idmapHelperDirs: readonly string[];
  /** Blobs and layers younger than this are never collected (an import writes them just before its record). */
  readonly gcGraceMs: number;
  /** How long a registry may leave a request unanswered before it is tried again, then given up on. */
  readonly registryTimeoutMs: number;
  /**
   * The decompression-bomb bound: a layer whose tar grows past this many times the compressed
   * bytes it came from (beyond its first LAYER_RATIO_FLOOR bytes) is refused as it unpacks, before
   * it fills the disk. 0: no bound. See store-layer.ts.
   */
  readonly maxLayerRatio: number;
  /**
   * The cgroup (a path as /proc/PID/cgroup names it) containers' cgroups go in; undefined: /den as
   * root, rootless the delegated cgroup den finds from its own.
   */
  readonly cgroupParent?: string;
  /** den itself, for the workers it starts inside the rootless session: Node and den's entry script. */
  readonly self: { readonly node: string; readonly script: string | undefined };
  /** What inflates gzip layers (DEN_GZIP): ISA-L's igzip where it is installed, else Node's zlib. */
  readonly gzip: GzipDecoder;
}

/**
 * The gzip decoder: `program` is igzip's path, absent for Node's zlib; `why` says how it was chosen.
 * igzip inflates about 2.5 times as fast as zlib, in a process of its own (unpack/decompress.ts).
 */
export interface GzipDecoder {
  readonly program?: string;
  readonly why: string;
}

export type ShiftPreference = 'auto' | 'copy' | 'fuse' | 'helper';

/** Bounds of an auto range: 1024 ids at least (room for the usual system users), 2^24 at most. */
const AUTO_MIN = 1024;
const AUTO_MAX = 1 << 24;
const GC_GRACE_SECONDS = 600;
const REGISTRY_TIMEOUT_SECONDS = 30;
/**
 * gzip's own limit is about 1000:1 (a run of zeros); text and binaries compress 2 to 10 times. A
 * hundred times leaves any layer of files room and stops a small blob from becoming a disk's worth.
 */
const MAX_LAYER_RATIO = 100;

/**
 * The configuration the CLI runs with, from its environment. A value that cannot be used is
 * refused here, before any command does anything, with the variable's name.
 */
export function engineConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  self: EngineConfig['self'],
  uid: number = process.getuid?.() ?? 0,
  gid: number = process.getgid?.() ?? 0,
): EngineConfig {
  const userns = defaultUsernsSetting(env, uid !== 0);
  const network = defaultNetworkSetting(env, uid !== 0);
  return {
    paths: resolvePaths(env, uid),
    user: { uid, gid, name: userName(uid) },
    searchPath: env.PATH ?? '',
    defaultRuntime: env.DEN_RUNTIME || DEFAULT_RUNTIME,
    defaultUserns: userns?.value,
    ...(userns ? { defaultUsernsFrom: userns.from } : {}),
    ...(network ? { defaultNetwork: network.value } : {}),
    autoRange: {
      min: wholeNumber(env, 'DEN_USERNS_AUTO_MIN', AUTO_MIN),
      max: wholeNumber(env, 'DEN_USERNS_AUTO_MAX', AUTO_MAX),
    },
    shift: shiftPreference(env.DEN_SHIFT),
    idmapHelperDirs: idmapHelperDirs(env.DEN_IDMAP_HELPER_DIR),
    gcGraceMs: wholeNumber(env, 'DEN_GC_GRACE_SECONDS', GC_GRACE_SECONDS) * 1000,
    registryTimeoutMs: wholeNumber(env, 'DEN_REGISTRY_TIMEOUT_SECONDS', REGISTRY_TIMEOUT_SECONDS) * 1000,
    maxLayerRatio: wholeNumber(env, 'DEN_MAX_LAYER_RATIO', MAX_LAYER_RATIO),
    ...(env.DEN_CGROUP_PARENT ? { cgroupParent: cgroupParent(env.DEN_CGROUP_PARENT) } : {}),
    self,
    gzip: gzipDecoder(env.DEN_GZIP, env.PATH ?? ''),
  };
}

function gzipDecoder(asked: string | undefined, path: string): GzipDecoder {
  if (asked === 'zlib') return { why: 'DEN_GZIP=zlib' };
  if (asked !== undefined && asked !== '' && asked !== 'igzip') {
    throw invalidArgument('DEN1502', `DEN_GZIP=${asked}: unknown gzip decoder`, {
      hint: 'use igzip (ISA-L, the default where installed) or zlib (Node.js)',
    });
  }
  const program = findExecutable('igzip', path);
  if (program !== undefined) return { program, why: asked === 'igzip' ? 'DEN_GZIP=igzip' : 'found in PATH' };
  if (asked === 'igzip') {
    throw invalidArgument('DEN1502', 'DEN_GZIP=igzip: igzip is not in PATH', {
      hint: 'install it (apt-get install isal), or unset DEN_GZIP to let den use zlib',
    });
  }
  return { why: 'igzip is not installed (apt-get install isal inflates about 2.5 times as fast)' };
}

/** DEN_CGROUP_PARENT: a cgroup path, absolute and plain (`/den-ann`, as /proc/PID/cgroup shows one). */
function cgroupParent(path: string): string {
  const parts = path.split('/').slice(1);
  if (!path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw invalidArgument('DEN0106', `DEN_CGROUP_PARENT=${path}: not a cgroup path`, {
      hint: 'give an absolute path inside the cgroup hierarchy, as /proc/self/cgroup shows one: /den-ann, not /sys/fs/cgroup/den-ann',
    });
  }
  if (path.startsWith('/sys/fs/cgroup/')) {
    throw invalidArgument('DEN0106', `DEN_CGROUP_PARENT=${path}: a file system path, not a cgroup path`, {
      hint: `give the path inside the cgroup hierarchy: ${path.replace(/^\/sys\/fs\/cgroup(\/unified)?/, '')}`,
    });
  }
  return path;
}

/** DEN_IDMAP_HELPER_DIR: absolute directories; empty, none (den does without the helper). */
function idmapHelperDirs(text: string | undefined): readonly string[] {
  if (text === undefined) return IDMAP_HELPER_DIRS;
  const dirs = text.split(':').filter((d) => d !== '');
  const relative = dirs.find((d) => !d.startsWith('/'));
  if (relative !== undefined) {
    throw invalidArgument('DEN1604', `DEN_IDMAP_HELPER_DIR=${text}: ${relative} is not an absolute path`, {
      hint: 'give the directory den-idmap is installed in, e.g. /usr/local/libexec/den, or leave it empty to do without',
    });
  }
  return dirs;
}

function shiftPreference(asked: string | undefined): ShiftPreference {
  if (asked === undefined || asked === '' || asked === 'auto') return 'auto';
  if (asked === 'copy' || asked === 'fuse' || asked === 'helper') return asked;
  throw invalidArgument('DEN0687', `DEN_SHIFT=${asked}: unknown way of shifting ids`, {
    hint: 'use auto (den chooses), copy, fuse or helper',
  });
}

function wholeNumber(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text)) {
    throw invalidArgument('DEN0105', `${name}=${text}: not a whole number`, { hint: `unset ${name} or give a number` });
  }
  return Number(text);
}

function userName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (a container, an LDAP outage): subuid lines may still name it.
    return String(uid);
  }
}
