import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { failedPrecondition, invalidArgument, notFound } from '../../common/errors.js';
import {
  newContainerId,
  randomName,
  validateName,
  type ContainerConfig,
  type ContainerRecord,
  type SecurityConfig,
} from '../../containers/index.js';
import { hexOf } from '../../content/index.js';
import { DEFAULT_PATH, familiarName, parseReference, type ImageRecord } from '../../images/index.js';
import { hostnameFile, isValidHostname } from '../../network/index.js';
import { etcInputOf, networkFiles, networkOf, resolveNetwork } from './container-network.js';
import {
  buildOciSpec,
  DEFAULT_SECCOMP_PROFILE,
  ociConfigJson,
  type DeviceMount,
  type SpecInput,
} from '../../runtime/index.js';
import {
  checkMounts,
  fillVolumes,
  ociMounts,
  planDevices,
  planMounts,
  recordVolumes,
  removeAnonymousVolumes,
} from './container-mounts.js';
import { defaultSecurity, planSecurity, privilegedDevices } from './security.js';
import type { EngineContext } from '../context.js';
import { resolveUser } from './image-users.js';
import { findRuntime } from '../runtimes.js';
import { mapsHostId, shiftsIds } from '../../idmap/index.js';
import { imageRootOwner, rootfsCleanupHook, shiftKey, type ShiftProgress } from '../../snapshots/index.js';
import { writePrivateFile } from '../../common/fs.js';
import { prepareRootfs, rootfsOf, snapshotterOf } from './rootfs-mount.js';
import { EMPTY_ENV_NAME, healthcheckOf, parseSignal, type CreateSpec } from './create-spec.js';
import { allocateUserns, planUserns } from './userns.js';
import { cgroupPathOf, planLimits } from './container-cgroup.js';
import { ociResources, ociRlimits } from './limits.js';

/**
 * What a detached container needs beyond its process: labels (the image's, then --label), its
 * restart policy, how it is stopped, where its output is logged, and its health check.
 */
function serviceConfig(options: CreateSpec, image: ImageRecord): Partial<ContainerConfig> {
  const imageConfig = image.config.config ?? {};
  const policy = options.restartPolicy;
  if (policy && policy.name !== 'no' && options.autoRemove) {
    throw invalidArgument('DEN1102', 'conflicting options: --restart and --rm', {
      hint: 'a container removed when it exits cannot be restarted: drop one of them',
    });
  }
  const labels = { ...(imageConfig.Labels ?? {}), ...(options.labels ?? {}) };
  const stopSignal = options.stopSignal ?? (imageConfig.StopSignal ? parseSignal(imageConfig.StopSignal) : undefined);
  const healthcheck = healthcheckOf(options.health ?? { none: false }, imageConfig.Healthcheck);
  return {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(policy && policy.name !== 'no' ? { restartPolicy: policy } : {}),
    ...(stopSignal ? { stopSignal } : {}),
    ...(options.stopTimeout !== undefined ? { stopTimeout: options.stopTimeout } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(healthcheck ? { healthcheck } : {}),
  };
}

/**
 * `den create` (and the first half of `den run`): resolves everything about the container once,
 * records it, and writes its OCI bundle; rootless, where ids are shifted by copying, it copies the
 * layers its mapping does not have yet. The root file system is mounted only when it starts.
 */
export async function createContainer(
  ctx: EngineContext,
  options: CreateSpec,
  onShiftProgress?: (p: ShiftProgress) => void,
): Promise<ContainerRecord> {
  const limits = planLimits(ctx, options.limits);
  const runtime = findRuntime(ctx, options.runtime);
  if (options.workdir !== undefined && !isAbsolute(options.workdir)) {
    throw invalidArgument(
      'DEN0620',
      `the working directory "${options.workdir}" is invalid: it needs to be an absolute path`,
    );
  }
  if (options.hostname !== undefined && !isValidHostname(options.hostname)) {
    throw invalidArgument('DEN0621', `invalid hostname "${options.hostname}"`, {
      hint: 'letters, digits and hyphens, at most 63 characters per label',
    });
  }
  const name = options.name !== undefined ? validateName(options.name) : randomName();
  const image = ctx.images.find(options.image);
  if (!image) {
    throw notFound('DEN0622', `unable to find image '${options.image}' locally`, {
      hint: 'see `den images`; import one with `den import FILE NAME`',
    });
  }
  const mounts = planMounts(ctx, options, image);
  const devices = planDevices(options.devices ?? []);
  const userns = planUserns(ctx, options.userns, image);
  checkMounts(ctx, mounts, userns.mode !== 'host');
  const shift =
    ctx.paths.rootless && (userns.mode === 'auto' || shiftsIds(userns.idMap)) ? ctx.rootlessShift() : undefined;
  const id = newContainerId();
  const cgroupsPath = cgroupPathOf(limits, id);
  const layers = image.layers.map((l) => hexOf(l.chainId));
  for (const layer of layers) {
    if (!existsSync(ctx.layout.layerDir(layer))) {
      throw failedPrecondition(
        'DEN0634',
        `image ${options.image}: layer ${layer.slice(0, 12)} is missing from the store`,
        {
          hint: `the store was damaged: remove the image (den rmi -f ${options.image}) and import it again`,
        },
      );
    }
  }
  const lowerTopFirst = layers.map((l) => ctx.layout.layerDir(l)).reverse();
  const imageConfig = image.config.config ?? {};
  const { entrypoint, cmd, args } = commandLine(image, options);
  // keep-id runs as the caller's own ids unless -u says otherwise (as podman does).
  const keepIdMap = userns.mode === 'keep-id' ? userns.idMap : undefined;
  const keepId = keepIdMap?.uid.find((e) => e.hostID === 0)?.containerID;
  const keepGid = keepIdMap?.gid.find((e) => e.hostID === 0)?.containerID;
  // What was asked for, as docker's inspect shows it: '' when neither -u nor the image names a user.
  const userSpec = options.user ?? (keepId !== undefined ? `${keepId}:${keepGid}` : imageConfig.User || '');
  const user = resolveUser(userSpec || '0', lowerTopFirst);
  const { security, additionalGids } = planSecurity(options.security ?? defaultSecurity(), {
    rootless: ctx.paths.rootless,
    runtime: runtime.kind,
    layersTopFirst: lowerTopFirst,
  });
  const hostname = options.hostname ?? id.slice(0, 12);
  const env = buildEnv(imageConfig.Env ?? [], options, hostname, user.home);
  const config: ContainerConfig = {
    args,
    entrypoint,
    cmd,
    env,
    cwd: options.workdir ?? (imageConfig.WorkingDir || '/'),
    user: userSpec,
    uid: user.uid,
    gid: user.gid,
    additionalGids: [...user.additionalGids, ...additionalGids.filter((g) => !user.additionalGids.includes(g))],
    hostname,
    tty: options.tty,
    interactive: options.interactive,
    ...(options.stdinOnce ? { stdinOnce: true } : {}),
    readOnly: options.readOnly,
    mounts,
    ...(options.volumesFrom?.length ? { volumesFrom: options.volumesFrom } : {}),
    ...(options.shmSize !== undefined ? { shmSize: options.shmSize } : {}),
    ...(devices.length > 0 ? { devices } : {}),
    ...resolveNetwork(ctx, { mode: options.network, settings: options.networkSettings ?? {} }, image),
    runtime: options.runtime ?? runtime.kind, // as asked: a name or a path, found again at start
    autoRemove: options.autoRemove,
    layers,
    usernsMode: userns.mode,
    security,
    ...serviceConfig(options, image),
    ...(limits.limits ? { limits: limits.limits } : {}),
    ...(cgroupsPath !== undefined ? { cgroupsPath } : {}),
  };
  const withIdMap = (idMap: ContainerConfig['idMap']): ContainerConfig | undefined => {
    if (!idMap) return undefined;
    if (!shift || !shiftsIds(idMap)) return { ...config, idMap };
    const copy = shift.method === 'copy' ? { shiftKey: shiftKey(idMap, userns.mode === 'auto' ? id : undefined) } : {};
    return { ...config, idMap, shiftMethod: shift.method, ...copy };
  };
  let record: ContainerRecord = {
    id,
    name,
    imageId: image.id,
    imageName: imageDisplayName(options.image, image),
    config,
    status: 'created',
    pid: null,
    pidStart: null,
    monitor: null,
    initPid: null,
    exitCode: null,
    restartCount: 0,
    stopRequested: false,
    health: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  record = ctx.containers.insert(record, () => {
    const config = withIdMap(allocateUserns(ctx, userns, id));
    recordVolumes(ctx, { ...record, config: config ?? record.config });
    return config;
  });
  try {
    writeBundle(ctx, record);
    await prepareRootfs(ctx, record, onShiftProgress);
    await fillVolumes(ctx, record);
  } catch (e) {
    rmSync(ctx.layout.containerDir(id), { recursive: true, force: true }); // only den's own files so far
    ctx.containers.delete(id);
    removeAnonymousVolumes(ctx, record);
    snapshotterOf(ctx, record).release(ctx, rootfsOf(record));
    throw e;
  }
  return record;
}

/** Refuses when some directory from / down to `dir` does not let others pass (o+x). */
function checkTraversable(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      throw failedPrecondition(
        'DEN0685',
        `a container with ids of its own cannot reach den's data directory: ${d} is closed to others (mode ${(mode & 0o777).toString(8)})`,
        {
          hint: `allow passing through it (chmod o+x ${d}: others still cannot list it), set DEN_DATA_DIR to a directory below one that allows it, or use --userns=host`,
        },
      );
    }
    if (d === dirname(d)) return;
  }
}

/** Writes the bundle: directories, /etc files and config.json. */
export function writeBundle(
  ctx: EngineContext,
  c: ContainerRecord,
  consoleSize?: { height: number; width: number },
  atStart = false,
): void {
  const b = ctx.layout.bundle(c.id);
  for (const dir of [b.dir, b.work, b.rootfs]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The overlay's root directory takes its mode and owner from the upper directory: give it the
  // image's, seen through the container's maps.
  mkdirSync(b.upper, { recursive: true });
  const root = imageRootOwner(ctx, c.config.layers);
  chmodSync(b.upper, root.mode);
  const idMap = c.config.idMap;
  if (idMap && !mapsHostId(idMap.uid, 0)) {
    // The runtime reaches the root file system and the /etc files as the container's root. Where
    // that is a stranger to the store's owner (id 0 where the runtime runs: root, or the caller in
    // the rootless session), the directories on the way must let it pass (not list): den opens its
    // own, and refuses rather than changes the modes of directories above its data directory. The
    // container's own directory is opened to its root's group alone, when it is mounted
    // (rootfsMountArgs); the two above are shared by every container, so others may pass them
    // (0711), and find nothing inside that they may read (docs/permissions.md).
    checkTraversable(dirname(ctx.paths.dataDir));
    for (const dir of [ctx.paths.dataDir, ctx.layout.containersDir]) chmodSync(dir, statSync(dir).mode | 0o111);
  }
  writeFileSync(b.hostname, hostnameFile(c.config.hostname));
  const network = networkOf(ctx, c);
  writeFileSync(b.hosts, network.hosts(etcInputOf(c)));
  writeFileSync(b.resolvConf, network.resolvConf(etcInputOf(c)));
  // Another container's namespace is known once that one runs: the bundle is written again at start.
  const namespace =
    network.mode.kind === 'container' && !atStart ? 'new' : network.namespace(networkFiles(ctx, c).netnsFile);
  const spec = buildOciSpec({
    args: c.config.args,
    env: c.config.env,
    cwd: c.config.cwd,
    uid: c.config.uid,
    gid: c.config.gid,
    additionalGids: c.config.additionalGids,
    terminal: c.config.tty,
    ...(consoleSize ? { consoleSize } : {}),
    hostname: c.config.hostname,
    rootfs: b.rootfs,
    readOnlyRootfs: c.config.readOnly,
    networkNamespace: namespace,
    etcFiles: { hostname: b.hostname, hosts: b.hosts, resolvConf: b.resolvConf },
    ...ociMounts(ctx, c),
    ...(c.config.shmSize !== undefined ? { shmSize: c.config.shmSize } : {}),
    rootless: ctx.paths.rootless,
    // Root mode: a user namespace of the container's own. Until per-container ranges are allocated
    // it maps ids one to one, which confines the container's capabilities to namespaces it owns.
    ...(c.config.idMap ? { userns: { uidMappings: c.config.idMap.uid, gidMappings: c.config.idMap.gid } } : {}),
    ...securityInput(c.config.security),
    ...devicesInput(c),
    annotations: { 'io.den.container.name': c.name, 'io.den.image.id': c.imageId },
    ...(c.config.cgroupsPath !== undefined ? { cgroupsPath: c.config.cgroupsPath } : {}),
    ...(c.config.limits ? { resources: ociResources(c.config.limits), rlimits: ociRlimits(c.config.limits) } : {}),
    poststop: [rootfsCleanupHook(ctx, c.id, c.config.autoRemove)],
  });
  writePrivateFile(b.config, ociConfigJson(spec)); // the environment: the owner's alone
}

/** The spec's fields for the container's confinement; records made before --security-opt get docker's defaults. */
function securityInput(security: SecurityConfig | undefined): Partial<SpecInput> {
  if (!security) return { seccomp: { path: DEFAULT_SECCOMP_PROFILE } };
  const seccomp = security.seccomp;
  return {
    capabilities: security.capabilities,
    noNewPrivileges: security.noNewPrivileges,
    ...(seccomp === 'default'
      ? { seccomp: { path: DEFAULT_SECCOMP_PROFILE } }
      : seccomp === 'unconfined'
        ? {}
        : { seccomp: { text: seccomp.text } }),
    ...(security.privileged ? { privileged: true } : {}),
    ...(security.apparmorProfile ? { apparmorProfile: security.apparmorProfile } : {}),
    ...(security.keepGroups ? { keepGroups: true } : {}),
  };
}

/** --device's nodes, and with --privileged every device the caller can open, bound in. */
function devicesInput(c: ContainerRecord): Partial<SpecInput> {
  const given: DeviceMount[] = (c.config.devices ?? []).flatMap((d) => {
    const st = statSync(d.host, { throwIfNoEntry: false });
    if (!st) return []; // gone since create: the runtime's bind would fail the start
    return [
      {
        host: d.host,
        container: d.container,
        access: d.permissions,
        kind: st.isBlockDevice() ? 'b' : 'c',
        major: Math.floor(st.rdev / 256) & 0xfff,
        minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      },
    ];
  });
  const all = c.config.security?.privileged
    ? [...privilegedDevices().filter((p) => !given.some((d) => d.container === p)), ...given]
    : given;
  return all.length > 0 ? { devices: all } : {};
}

/** The entrypoint and command as docker resolves them (null: none), and the argv they make. */
function commandLine(
  image: ImageRecord,
  options: CreateSpec,
): { entrypoint: string[] | null; cmd: string[] | null; args: string[] } {
  const cfg = image.config.config ?? {};
  let entrypoint = cfg.Entrypoint?.length ? cfg.Entrypoint : null;
  let cmd = cfg.Cmd?.length ? cfg.Cmd : null;
  if (options.entrypoint !== undefined) {
    entrypoint = options.entrypoint.length > 0 ? options.entrypoint : null;
    cmd = null;
  }
  if (options.command.length > 0) cmd = options.command;
  const args = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (args.length === 0) {
    throw invalidArgument('DEN0623', 'no command specified', {
      hint: 'give a command after the image name, or set CMD with `den import --change`',
    });
  }
  return { entrypoint, cmd, args };
}

/**
 * The container's environment: PATH, the image's, HOSTNAME, TERM with -t, HOME from the user's
 * passwd entry unless set, then the spec's entries in order. An entry without `=` removes the
 * variable, as in docker's API (the CLI has already resolved `-e NAME` against its environment).
 */
function buildEnv(imageEnv: string[], options: CreateSpec, hostname: string, home: string): string[] {
  const env = new Map<string, string>();
  const set = (entry: string) => setEnvEntry(env, entry);
  env.set('PATH', DEFAULT_PATH);
  for (const e of imageEnv) set(e);
  env.set('HOSTNAME', hostname);
  if (options.tty) env.set('TERM', 'xterm');
  if (!env.has('HOME')) env.set('HOME', home);
  for (const e of options.env) set(e);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** One `NAME=VALUE` entry into `env` (`NAME` alone removes the variable), as docker's API takes them. */
export function setEnvEntry(env: Map<string, string>, entry: string): void {
  const eq = entry.indexOf('=');
  if (eq === 0) throw invalidArgument('DEN0624', EMPTY_ENV_NAME);
  if (eq < 0) env.delete(entry);
  else env.set(entry.slice(0, eq), entry.slice(eq + 1));
}

function imageDisplayName(asked: string, image: ImageRecord): string {
  try {
    const canonical = parseReference(asked);
    return familiarName(canonical);
  } catch {
    return image.id.slice(7, 19);
  }
}
