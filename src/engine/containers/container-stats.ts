import { cgroupStats, containerCgroup, procStats, type StatsSample } from '../../runtime/index.js';
import type { ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from './container-state.js';

/**
 * `den stats`: a container's resource use, docker's columns, from two samples of its counters.
 * The counters come from the container's cgroup (v1 or v2) where it has one; a rootless container
 * without a delegated cgroup has none, and /proc of its processes stands in (runtime's procStats).
 */
export interface ContainerStats {
  id: string;
  name: string;
  /** Where the numbers come from: 'none' for a container that is not running. */
  source: StatsSample['source'] | 'none';
  /** docker's CPU %: the container's share of the host's CPU time between the samples, times the CPUs. */
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** The container's counters now; undefined when it is not running. */
export function sampleStats(ctx: EngineContext, c: ContainerRecord): StatsSample | undefined {
  const now = reconcile(ctx, ctx.containers.get(c.id) ?? c);
  if ((now.status !== 'running' && now.status !== 'paused') || now.initPid === null) return undefined;
  const ownNetwork = now.config.network !== 'host';
  const cgroup = containerCgroup(now.initPid, now.pid);
  return cgroup ? cgroupStats(cgroup, now.initPid, ownNetwork) : procStats(now.initPid, ownNetwork);
}

/** The stats between two samples (docker computes CPU % the same way from its previous reading). */
export function statsBetween(
  c: ContainerRecord,
  before: StatsSample | undefined,
  now: StatsSample | undefined,
): ContainerStats {
  if (!now) {
    return {
      id: c.id,
      name: c.name,
      source: 'none',
      cpuPercent: 0,
      memoryUsage: 0,
      memoryLimit: 0,
      memoryPercent: 0,
      netRx: 0,
      netTx: 0,
      blockRead: 0,
      blockWrite: 0,
      pids: 0,
    };
  }
  const cpuDelta = before ? now.cpuNs - before.cpuNs : 0;
  const systemDelta = before ? now.systemNs - before.systemNs : 0;
  return {
    id: c.id,
    name: c.name,
    source: now.source,
    cpuPercent: cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * now.onlineCpus * 100 : 0,
    memoryUsage: now.memoryUsage,
    memoryLimit: now.memoryLimit,
    memoryPercent: now.memoryLimit > 0 ? (now.memoryUsage / now.memoryLimit) * 100 : 0,
    netRx: now.netRx,
    netTx: now.netTx,
    blockRead: now.blockRead,
    blockWrite: now.blockWrite,
    pids: now.pids,
  };
}
