/**
 * den in docker's vocabulary, for `den version`, `den info` and the API's /version and /info:
 * docker names architectures as Go does (amd64) in `version` and as uname does (x86_64) in `info`,
 * and speaks an API version. Shared by the CLI and the API server, so both say the same.
 */
import { release } from 'node:os';
import { isDenError } from '../../common/errors.js';
import type { IdMap } from '../../idmap/index.js';
import { hostPlatform } from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { DEFAULT_RUNTIME, findRuntime } from '../runtimes.js';
import type { SystemInfo } from './system-info.js';

/**
 * The Docker Engine API version den follows (docker 20.10's; podman's compatibility API says the
 * same), and the oldest docker's clients may ask for.
 */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

const UNAME_ARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64',
  ia32: 'i686',
  arm64: 'aarch64',
  ppc64: 'ppc64le',
};

/** The architecture as Go and OCI name it (docker version's OS/Arch, podman's host.arch). */
export const goArch = (arch: NodeJS.Architecture = process.arch): string => hostPlatform(arch).architecture;
/** The architecture as uname -m names it (docker info's Architecture). */
export const unameArch = (arch: NodeJS.Architecture = process.arch): string => UNAME_ARCH[arch] ?? arch;

/** The version number in a runtime's `--version` text: "crun version 1.8.1\n..." -> 1.8.1. */
export const runtimeVersionNumber = (text: string): string => /version (\S+)/.exec(text)?.[1] ?? '';

const idMap = (m: IdMap | undefined) =>
  (m ?? []).map((e) => ({ ContainerID: e.container, HostID: e.host, Size: e.size }));

/**
 * docker's `info` fields (what tools read: `{{.ServerVersion}}`, `{{.Driver}}`, `{{.CgroupVersion}}`,
 * `{{.SecurityOptions}}` ...), and podman's `Host` and `Store` sections for what docker has no
 * field for (the session's id mappings, the OCI runtime's version, rootless), under podman's
 * template names (`{{.Host.OCIRuntime.Version}}`, `{{.Store.GraphRoot}}`).
 */
export function dockerInfo(i: SystemInfo, denVersion: string) {
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
    ServerVersion: denVersion,
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
    Version: { Version: denVersion, APIVersion: API_VERSION },
  };
}

/**
 * docker's `version` object's Server half (the API's /version). den has no daemon: like rootless
 * podman, the server is den, its components den's engine and the OCI runtime. Go's fields stay,
 * empty: den is not written in Go.
 */
export function dockerServerVersion(ctx: EngineContext, denVersion: string) {
  const os = 'linux';
  const arch = goArch();
  const components: { Name: string; Version: string; Details: Record<string, string> }[] = [
    {
      Name: 'Engine',
      Version: denVersion,
      Details: {
        ApiVersion: API_VERSION,
        Arch: arch,
        BuildTime: '',
        Experimental: 'false',
        GitCommit: '',
        GoVersion: '',
        KernelVersion: release(),
        MinAPIVersion: MIN_API_VERSION,
        Os: os,
      },
    },
  ];
  try {
    const runtime = findRuntime(ctx);
    components.push({
      Name: runtime.kind,
      Version: runtimeVersionNumber(runtime.version),
      Details: { Path: runtime.binary },
    });
  } catch (e) {
    if (!isDenError(e)) throw e; // no runtime: version still answers, as docker's does without one
  }
  return {
    Platform: { Name: 'den' },
    Components: components,
    Version: denVersion,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: '',
    Os: os,
    Arch: arch,
    KernelVersion: release(),
    BuildTime: '',
  };
}
