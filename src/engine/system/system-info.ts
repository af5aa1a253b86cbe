import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { isDenError } from '../../common/errors.js';
import type { IdMap } from '../../idmap/index.js';
import { DEFAULT_SECCOMP_PROFILE } from '../../runtime/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from '../containers/container-state.js';
import { defaultUserns } from '../containers/userns.js';
import { findRuntime } from '../runtimes.js';

/**
 * What den knows of itself and its host, for `den info` (and an API server's /info): no probing
 * beyond reading /proc, /sys and /etc and asking the OCI runtime its version, so it never creates
 * the rootless session. What cannot be found is left out and said in `warnings`.
 */
export interface SystemInfo {
  host: {
    /** uname -r */
    kernel: string;
    /** /etc/os-release's PRETTY_NAME, or 'Linux'. */
    operatingSystem: string;
    /** Node's name for the machine (x64, arm64 ...). */
    arch: NodeJS.Architecture;
    hostname: string;
    cpus: number;
    /** Bytes. */
    memTotal: number;
    /** 1 or 2: which cgroup hierarchy is mounted at /sys/fs/cgroup. */
    cgroupVersion: 1 | 2;
    /** How the runtime is asked to manage cgroups: den never passes --systemd-cgroup. */
    cgroupManager: 'cgroupfs';
  };
  store: {
    dataDir: string;
    runtimeDir: string;
    driver: 'overlay';
    images: number;
    containers: { total: number; running: number; stopped: number };
  };
  rootless: boolean;
  /** The rootless session's maps (undefined as root, or without subordinate ids: see warnings). */
  sessionIdMaps: { uid: IdMap; gid: IdMap } | undefined;
  /** The default OCI runtime (version: the first line of its --version); undefined when it cannot be found. */
  runtime: { name: string; path: string; version: string } | undefined;
  security: {
    /** The seccomp profile containers get, undefined when the file is missing (none is applied). */
    seccompProfile: string | undefined;
    /** The --userns a container gets when it asks for none. */
    defaultUserns: string;
  };
  warnings: string[];
}

export function systemInfo(ctx: EngineContext): SystemInfo {
  const warnings: string[] = [];
  const attempt = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!isDenError(e)) throw e;
      warnings.push(`${what}: ${e.message}`);
      return undefined;
    }
  };
  const containers = ctx.containers.list().map((c) => reconcile(ctx, c));
  const running = containers.filter((c) => c.status === 'running').length;
  const runtime = attempt('OCI runtime', () => {
    const r = findRuntime(ctx);
    // "crun version 1.8.1": podman reports the whole --version text; its first line says it.
    return { name: r.kind, path: r.binary, version: r.version };
  });
  return {
    host: {
      kernel: release(),
      operatingSystem: osReleaseName() ?? 'Linux',
      arch: process.arch,
      hostname: hostname(),
      cpus: availableParallelism(),
      memTotal: totalmem(),
      cgroupVersion: ctx.cgroupLayout.version === 'v2' ? 2 : 1,
      cgroupManager: 'cgroupfs',
    },
    store: {
      dataDir: ctx.paths.dataDir,
      runtimeDir: ctx.paths.runtimeDir,
      driver: 'overlay',
      images: ctx.images.list().length,
      containers: { total: containers.length, running, stopped: containers.length - running },
    },
    rootless: ctx.rootless,
    sessionIdMaps: ctx.rootless ? attempt('rootless session', () => ctx.sessionIdMaps()) : undefined,
    runtime,
    security: {
      seccompProfile: existsSync(DEFAULT_SECCOMP_PROFILE) ? DEFAULT_SECCOMP_PROFILE : undefined,
      defaultUserns: ctx.config.defaultUserns ?? attempt('default --userns', () => defaultUserns(ctx).mode) ?? 'host',
    },
    warnings,
  };
}

function osReleaseName(): string | undefined {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const m = /^PRETTY_NAME=(.*)$/m.exec(text);
    if (m) return m[1]!.trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return undefined;
}
