import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { DEFAULT_RUNTIME, systemInfo, type EngineContext, type SystemInfo } from '../../engine/index.js';
import type { IdMap } from '../../idmap/index.js';
import { renderTemplate } from '../output.js';
import { API_VERSION, binarySize, formatFlag, goArch, runtimeVersionNumber, unameArch } from '../system-facts.js';
import { DEN_VERSION } from '../version.js';

export const spec: CommandSpec = {
  path: 'info',
  usage: 'info [OPTIONS]',
  summary: 'Display system-wide information',
  maxArgs: 0,
  flags: [formatFlag],
};

const idMap = (m: IdMap | undefined) =>
  (m ?? []).map((e) => ({ ContainerID: e.container, HostID: e.host, Size: e.size }));

/**
 * docker's `info` fields (what tools read: `{{.ServerVersion}}`, `{{.Driver}}`, `{{.CgroupVersion}}`,
 * `{{.SecurityOptions}}` ...), and podman's `Host` and `Store` sections for what docker has no
 * field for (the session's id mappings, the OCI runtime's version, rootless), under podman's
 * template names (`{{.Host.OCIRuntime.Version}}`, `{{.Store.GraphRoot}}`).
 */
export function infoObject(i: SystemInfo) {
  const runtimeName = i.runtime?.name ?? DEFAULT_RUNTIME;
  const securityOptions = [
    ...(i.security.seccompProfile ? [`name=seccomp,profile=${i.security.seccompProfile}`] : []),
    ...(i.rootless ? ['name=rootless'] : []),
    // Every den container may get a user namespace of its own (--userns=auto), as userns-remap gives.
    'name=userns',
    'name=cgroupns',
  ];
  return {
    ID: '',
    Containers: i.store.containers.total,
    ContainersRunning: i.store.containers.running,
    ContainersPaused: 0,
    ContainersStopped: i.store.containers.stopped,
    Images: i.store.images,
    Driver: i.store.driver,
    DockerRootDir: i.store.dataDir,
    Name: i.host.hostname,
    KernelVersion: i.host.kernel,
    OperatingSystem: i.host.operatingSystem,
    OSType: 'linux',
    Architecture: unameArch(i.host.arch),
    NCPU: i.host.cpus,
    MemTotal: i.host.memTotal,
    CgroupDriver: i.host.cgroupManager,
    CgroupVersion: String(i.host.cgroupVersion),
    DefaultRuntime: runtimeName,
    Runtimes: i.runtime ? { [i.runtime.name]: { path: i.runtime.path } } : {},
    SecurityOptions: securityOptions,
    ServerVersion: DEN_VERSION,
    Warnings: i.warnings,
    Host: {
      Arch: goArch(i.host.arch),
      Kernel: i.host.kernel,
      OS: 'linux',
      Hostname: i.host.hostname,
      CPUs: i.host.cpus,
      MemTotal: i.host.memTotal,
      CgroupManager: i.host.cgroupManager,
      CgroupsVersion: `v${i.host.cgroupVersion}`,
      IDMappings: { UIDMap: idMap(i.sessionIdMaps?.uid), GIDMap: idMap(i.sessionIdMaps?.gid) },
      OCIRuntime: { Name: runtimeName, Path: i.runtime?.path ?? '', Version: i.runtime?.version ?? '' },
      Security: {
        Rootless: i.rootless,
        SECCOMPEnabled: i.security.seccompProfile !== undefined,
        SECCOMPProfilePath: i.security.seccompProfile ?? '',
        DefaultUserns: i.security.defaultUserns,
      },
    },
    Store: {
      GraphDriverName: i.store.driver,
      GraphRoot: i.store.dataDir,
      RunRoot: i.store.runtimeDir,
      ImageStore: { Number: i.store.images },
      ContainerStore: {
        Number: i.store.containers.total,
        Running: i.store.containers.running,
        Paused: 0,
        Stopped: i.store.containers.stopped,
      },
    },
    Version: { Version: DEN_VERSION, APIVersion: API_VERSION },
  };
}

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const info = infoObject(systemInfo(ctx));
  const format = str(p, 'format');
  if (format !== undefined && format !== '') {
    process.stdout.write(format === 'json' ? `${JSON.stringify(info)}\n` : `${renderTemplate(format, info)}\n`);
    return 0;
  }
  const extents = (m: { ContainerID: number; HostID: number; Size: number }[]) =>
    m.map((e) => `${e.ContainerID} ${e.HostID} ${e.Size}`).join(', ');
  const runtime = info.Host.OCIRuntime;
  const lines = [
    'Client:',
    ` Version:    ${DEN_VERSION}`,
    ' Context:    default',
    '',
    'Server:',
    ` Containers: ${info.Containers}`,
    `  Running: ${info.ContainersRunning}`,
    `  Paused: ${info.ContainersPaused}`,
    `  Stopped: ${info.ContainersStopped}`,
    ` Images: ${info.Images}`,
    ` Server Version: ${info.ServerVersion}`,
    ` Storage Driver: ${info.Driver}`,
    ` Cgroup Driver: ${info.CgroupDriver}`,
    ` Cgroup Version: ${info.CgroupVersion}`,
    ` Runtimes: ${Object.keys(info.Runtimes).join(' ')}`,
    ` Default Runtime: ${info.DefaultRuntime}`,
    ` OCI Runtime: ${runtime.Path ? `${runtime.Name} ${runtimeVersionNumber(runtime.Version)} (${runtime.Path})` : 'not found'}`,
    ' Security Options:',
    ...info.SecurityOptions.flatMap((o) => {
      const [name, ...rest] = o.replace(/^name=/, '').split(',');
      return [`  ${name}`, ...rest.map((kv) => `   ${kv.replace(/^profile=/, 'Profile: ')}`)];
    }),
    ` Default Userns: ${info.Host.Security.DefaultUserns}`,
    ...(info.Host.Security.Rootless
      ? [
          ' ID Mappings (rootless session, container host size):',
          `  uid: ${extents(info.Host.IDMappings.UIDMap)}`,
          `  gid: ${extents(info.Host.IDMappings.GIDMap)}`,
        ]
      : []),
    ` Kernel Version: ${info.KernelVersion}`,
    ` Operating System: ${info.OperatingSystem}`,
    ` OSType: ${info.OSType}`,
    ` Architecture: ${info.Architecture}`,
    ` CPUs: ${info.NCPU}`,
    ` Total Memory: ${binarySize(info.MemTotal)}`,
    ` Name: ${info.Name}`,
    ` Den Root Dir: ${info.DockerRootDir}`,
    ` Den Run Dir: ${info.Store.RunRoot}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // docker prints its warnings after the information, on stderr.
  for (const w of info.Warnings) process.stderr.write(`WARNING: ${w}\n`);
  return 0;
}
