/**
 * `den run` and `den create`'s mount flags, in docker's syntax (docs/volumes.md): each value is
 * checked as the flags are parsed, so a bad one is a usage error before anything is pulled.
 */
import type { FlagSpec, Parsed } from './flags.js';
import { list, str } from './flags.js';
import { parseBytes, parseDevice, parseMount, parseTmpfs, parseVolume, type CreateSpec } from '../engine/index.js';

export const mountFlags: FlagSpec[] = [
  {
    long: 'volume',
    short: 'v',
    type: 'list',
    value: 'list',
    help: 'Bind mount a host path or mount a volume: [HOST-PATH|NAME:]CONTAINER-PATH[:OPTIONS] (ro, U, idmap, nocopy, ...)',
    check: parseVolume,
  },
  {
    long: 'mount',
    type: 'list',
    value: 'mount',
    help: 'Attach a mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]',
    check: parseMount,
  },
  {
    long: 'tmpfs',
    type: 'list',
    value: 'list',
    help: 'Mount a tmpfs directory: PATH[:size=...,mode=...]',
    check: parseTmpfs,
  },
  {
    long: 'volumes-from',
    type: 'list',
    value: 'list',
    help: 'Mount volumes from the specified container(s): CONTAINER[:ro|rw]',
  },
  {
    long: 'shm-size',
    type: 'string',
    help: 'Size of /dev/shm (default 64m)',
    check: (v) => parseBytes(v, '--shm-size'),
  },
  {
    long: 'device',
    type: 'list',
    value: 'list',
    help: 'Add a host device to the container: HOST[:CONTAINER][:PERMISSIONS]',
    check: parseDevice,
  },
];

/** The CreateSpec fields of the mount flags. */
export function mountsFromFlags(
  p: Parsed,
): Pick<CreateSpec, 'binds' | 'mounts' | 'volumesFrom' | 'shmSize' | 'devices'> {
  const shm = str(p, 'shm-size');
  const mounts = [...list(p, 'mount').map(parseMount), ...list(p, 'tmpfs').map(parseTmpfs)];
  const from = list(p, 'volumes-from');
  const devices = list(p, 'device').map(parseDevice);
  return {
    binds: list(p, 'volume').map(parseVolume),
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(from.length > 0 ? { volumesFrom: from } : {}),
    ...(shm !== undefined ? { shmSize: parseBytes(shm, '--shm-size') } : {}),
    ...(devices.length > 0 ? { devices } : {}),
  };
}
