/**
 * `den run` and `den create`'s resource limit flags, in docker's syntax: each value is checked as
 * the flags are parsed (a bad one is a usage error in docker's words, before anything is pulled);
 * docker's rules between them (swap against memory, the CPUs there are) are the engine's.
 */
import type { FlagSpec, Parsed } from './flags.js';
import { list, str } from './flags.js';
import {
  parseInt64,
  parseMemoryBytes,
  parseMemorySwap,
  parseNanoCpus,
  parseUlimit,
  type ContainerLimits,
} from '../engine/index.js';

const CGROUP_NOTE = 'rootless: needs a delegated cgroup v2';

export const limitFlags: FlagSpec[] = [
  {
    long: 'memory',
    short: 'm',
    type: 'string',
    value: 'bytes',
    help: `Memory limit: a number with an optional unit b, k, m, g (${CGROUP_NOTE})`,
    check: parseMemoryBytes,
  },
  {
    long: 'memory-swap',
    type: 'string',
    value: 'bytes',
    help: 'Memory plus swap limit (twice --memory by default); -1: unlimited swap',
    check: parseMemorySwap,
  },
  {
    long: 'memory-reservation',
    type: 'string',
    value: 'bytes',
    help: 'Memory soft limit, below --memory',
    check: parseMemoryBytes,
  },
  {
    long: 'cpus',
    type: 'string',
    value: 'decimal',
    help: `CPUs the container may use, e.g. 1.5 (${CGROUP_NOTE})`,
    check: parseNanoCpus,
  },
  {
    long: 'cpu-shares',
    short: 'c',
    type: 'string',
    value: 'int',
    help: 'CPU weight relative to other containers (1024 is the default weight)',
    check: parseInt64,
  },
  { long: 'cpuset-cpus', type: 'string', help: 'CPUs the container may run on (0-3, 0,1)' },
  {
    long: 'pids-limit',
    type: 'string',
    value: 'int',
    help: 'Most processes the container may have (0 or -1: unlimited)',
    check: parseInt64,
  },
  {
    long: 'ulimit',
    type: 'list',
    value: 'ulimit',
    help: 'A process limit NAME=SOFT[:HARD], e.g. nofile=1024:2048 (no cgroup needed; repeatable)',
    check: parseUlimit,
  },
];

/** The limits the flags ask for, undefined when none is given. */
export function limitsFromFlags(p: Parsed): ContainerLimits | undefined {
  const given = (name: string, parse: (v: string) => number) => {
    const v = str(p, name);
    return v === undefined ? undefined : parse(v);
  };
  const limits: ContainerLimits = {
    memory: given('memory', parseMemoryBytes),
    memorySwap: given('memory-swap', parseMemorySwap),
    memoryReservation: given('memory-reservation', parseMemoryBytes),
    nanoCpus: given('cpus', parseNanoCpus),
    cpuShares: given('cpu-shares', parseInt64),
    cpusetCpus: str(p, 'cpuset-cpus'),
    pidsLimit: given('pids-limit', parseInt64),
    ulimits: list(p, 'ulimit').map(parseUlimit),
  };
  for (const key of Object.keys(limits) as (keyof ContainerLimits)[]) {
    if (limits[key] === undefined) delete limits[key];
  }
  if (limits.ulimits?.length === 0) delete limits.ulimits;
  return Object.keys(limits).length > 0 ? limits : undefined;
}
