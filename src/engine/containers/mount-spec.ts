import { isAbsolute, posix } from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import {
  validateVolumeName,
  type DeviceSpec,
  type MountOrigin,
  type MountSpec,
  type Propagation,
} from '../../containers/index.js';
import { parseBytes } from './create-spec.js';

/**
 * docker's mount syntaxes, parsed into `MountSpec`s (only the syntax: whether a source exists, and
 * what a volume is, the engine decides at create). docs/volumes.md has the table.
 *
 *   -v [SOURCE:]DEST[:OPTS]    SOURCE absolute: a bind; a name: a named volume; none: anonymous.
 *                              OPTS: ro rw z Z U idmap nocopy copy, propagation, cached/delegated
 *   --mount type=bind|volume|tmpfs,source=..,target=..,readonly,bind-propagation=..,
 *           volume-nocopy,tmpfs-size=..,tmpfs-mode=..   (and podman's idmap, U / chown)
 *   --tmpfs DEST[:OPTS]        size=, mode=, and mount flags (exec, noexec, nosuid, ...)
 *   --device HOST[:CONTAINER][:PERMISSIONS]
 */

const PROPAGATIONS: readonly Propagation[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/** Flags docker accepts on -v for macOS's file sharing, meaningless on Linux. */
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

function destinationOf(dest: string, what: string): string {
  if (!isAbsolute(dest)) {
    throw invalidArgument('DEN0630', `invalid ${what}: the container path "${dest}" must be absolute`);
  }
  const d = posix.normalize(dest);
  if (d === '/') throw invalidArgument('DEN0633', `invalid ${what}: cannot mount over /`);
  return d.length > 1 && d.endsWith('/') ? d.slice(0, -1) : d;
}

/** -v / --volume. */
export function parseVolume(spec: string): MountSpec {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i < parts.length - 1) || spec === '') {
    throw invalidArgument('DEN0628', `invalid volume specification "${spec}"`, {
      hint: 'use -v /host/path:/container/path[:ro], -v NAME:/container/path or -v /container/path',
    });
  }
  // One part, or two whose second is options (`/data:ro`): an anonymous volume.
  const anonymous = parts.length === 1 || (parts.length === 2 && isAbsolute(parts[0]!) && looksLikeOptions(parts[1]!));
  const [source, destination, opts = ''] = anonymous
    ? [undefined, parts[0]!, parts[1] ?? '']
    : (parts as [string, string, string?]);
  const what = `volume specification "${spec}"`;
  const dest = destinationOf(destination, what);
  let readOnly = false;
  let propagation: Propagation | undefined;
  let idmap: boolean | undefined;
  let chown = false;
  let noCopy = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (o === 'z' || o === 'Z' || CONSISTENCY.has(o))
      continue; // no SELinux here; macOS's flags
    else if (o === 'U') chown = true;
    else if (o === 'idmap') idmap = true;
    else if (o === 'nocopy') noCopy = true;
    else if (o === 'copy') noCopy = false;
    else if ((PROPAGATIONS as readonly string[]).includes(o)) propagation = o as Propagation;
    else throw invalidArgument('DEN0631', `invalid volume option "${o}" in "${spec}"`, { hint: VOLUME_OPTIONS });
  }
  const common = {
    destination: dest,
    readOnly,
    ...(chown ? { chown } : {}),
    ...(idmap !== undefined ? { idmap } : {}),
    origin: 'v' as const,
  };
  if (source === undefined || !isAbsolute(source)) {
    if (propagation)
      throw invalidArgument(
        'DEN0631',
        `invalid volume option "${propagation}" in "${spec}": propagation is for bind mounts`,
      );
    return {
      type: 'volume',
      name: source === undefined ? '' : volumeNameOf(source),
      ...common,
      ...(noCopy ? { noCopy } : {}),
      ...(source === undefined ? { anonymous: true } : {}),
    };
  }
  if (noCopy) throw invalidArgument('DEN0631', `invalid volume option "nocopy" in "${spec}": it is for volumes`);
  return { type: 'bind', source: posix.normalize(source), ...common, ...(propagation ? { propagation } : {}) };
}

/** -v's source when it is not absolute: a volume's name, or a relative path given by mistake. */
function volumeNameOf(source: string): string {
  return validateVolumeName(source, 'if you meant a host directory, give its absolute path');
}

const VOLUME_OPTIONS = 'options are ro, rw, z, Z, U, idmap, nocopy, and a propagation (rprivate, rshared, rslave, ...)';

function looksLikeOptions(s: string): boolean {
  return s
    .split(',')
    .every((o) => /^(ro|rw|z|Z|U|idmap|nocopy|copy|consistent|cached|delegated|r?private|r?shared|r?slave)$/.test(o));
}

/** Splits --mount's value as docker's CSV reader does: commas, with "double-quoted" fields. */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '"') {
      if (quoted && value[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw invalidArgument('DEN1325', `invalid --mount "${value}": unterminated quote`);
  fields.push(field);
  return fields;
}

function boolOption(key: string, value: string | undefined, spec: string): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidArgument('DEN1325', `invalid --mount "${spec}": ${key} takes true or false, not "${value}"`);
}

/** --mount. */
export function parseMount(spec: string): MountSpec {
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let propagation: Propagation | undefined;
  let noCopy = false;
  let idmap: boolean | undefined;
  let chown = false;
  let size: number | undefined;
  let mode: number | undefined;
  const seen = new Set<string>();
  const bad = (message: string, hint?: string) =>
    invalidArgument('DEN1325', `invalid --mount "${spec}": ${message}`, {
      hint: hint ?? 'use --mount type=bind|volume|tmpfs,source=...,target=...[,readonly]',
    });
  for (const field of csvFields(spec)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (value === undefined || value === '') throw bad(`${key} needs a value`);
      return value;
    };
    seen.add(key);
    switch (key) {
      case 'type':
        type = need();
        if (!['bind', 'volume', 'tmpfs'].includes(type)) throw bad(`type "${type}" is not bind, volume or tmpfs`);
        break;
      case 'source':
      case 'src':
        source = need();
        break;
      case 'target':
      case 'destination':
      case 'dst':
        target = need();
        break;
      case 'readonly':
      case 'ro':
        readOnly = boolOption(key, value, spec);
        break;
      case 'bind-propagation':
        if (!(PROPAGATIONS as readonly string[]).includes(need()))
          throw bad(`bind-propagation "${value}" is not one of ${PROPAGATIONS.join(', ')}`);
        propagation = value as Propagation;
        break;
      case 'bind-nonrecursive':
      case 'consistency':
      case 'volume-driver':
        if (key === 'volume-driver' && value !== 'local')
          throw bad(`volume-driver "${value}": den has the local driver only`);
        break;
      case 'volume-nocopy':
        noCopy = boolOption(key, value, spec);
        break;
      case 'idmap':
        idmap = value === undefined ? true : boolOption(key, value, spec);
        break;
      case 'u':
      case 'chown':
        chown = boolOption(key, value, spec);
        break;
      case 'tmpfs-size':
        size = parseBytes(need(), '--mount tmpfs-size');
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(need())) throw bad(`tmpfs-mode "${value}" is not an octal mode`);
        mode = parseInt(value!, 8);
        break;
      case 'volume-label':
      case 'volume-opt':
        throw bad(`${key} is not supported`, 'create the volume first: den volume create --label/--opt NAME');
      default:
        throw bad(`unknown option "${key}"`);
    }
  }
  if (target === undefined) throw bad('target is required');
  const destination = destinationOf(target, `--mount "${spec}"`);
  const only = (keys: string[], forType: string) => {
    for (const k of keys) if (seen.has(k) && type !== forType) throw bad(`${k} is for type=${forType} mounts`);
  };
  only(['bind-propagation', 'bind-nonrecursive'], 'bind');
  only(['volume-nocopy'], 'volume');
  only(['tmpfs-size', 'tmpfs-mode'], 'tmpfs');
  const origin: MountOrigin = 'mount';
  const extra = { ...(chown ? { chown } : {}), ...(idmap !== undefined ? { idmap } : {}) };
  if (type === 'tmpfs') {
    if (source !== undefined) throw bad('a tmpfs mount has no source');
    return {
      type: 'tmpfs',
      destination,
      readOnly,
      ...(size !== undefined ? { size } : {}),
      ...(mode !== undefined ? { mode } : {}),
      options: [],
      origin,
    };
  }
  if (type === 'bind') {
    if (source === undefined) throw bad('a bind mount needs a source');
    if (!isAbsolute(source)) throw bad(`the bind mount source "${source}" must be an absolute path`);
    return {
      type: 'bind',
      source: posix.normalize(source),
      destination,
      readOnly,
      ...(propagation ? { propagation } : {}),
      ...extra,
      origin,
    };
  }
  return {
    type: 'volume',
    name: source === undefined ? '' : validateVolumeName(source),
    destination,
    readOnly,
    ...(noCopy ? { noCopy } : {}),
    ...(source === undefined ? { anonymous: true } : {}),
    ...extra,
    origin,
  };
}

/** The flags --tmpfs passes on to the mount (podman's set; size and mode are read apart). */
const TMPFS_FLAGS = new Set([
  'rw',
  'ro',
  'exec',
  'noexec',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'sync',
  'async',
  'dirsync',
  'atime',
  'noatime',
  'relatime',
  'strictatime',
  'nodiratime',
  'diratime',
  'tmpcopyup',
  'notmpcopyup',
]);

/** --tmpfs DEST[:OPTIONS]; docker's defaults: noexec, nosuid, nodev. */
export function parseTmpfs(spec: string): MountSpec {
  const colon = spec.indexOf(':');
  const dest = colon < 0 ? spec : spec.slice(0, colon);
  const opts =
    colon < 0
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .filter(Boolean);
  const destination = destinationOf(dest, `--tmpfs "${spec}"`);
  let size: number | undefined;
  let mode: number | undefined;
  let readOnly = false;
  const options: string[] = [];
  for (const o of opts) {
    const [k, v] = o.split('=', 2) as [string, string | undefined];
    if (k === 'size' && v) size = parseBytes(v, '--tmpfs size');
    else if (k === 'mode' && v && /^[0-7]{1,4}$/.test(v)) mode = parseInt(v, 8);
    else if (k === 'ro' || k === 'rw') readOnly = k === 'ro';
    else if (TMPFS_FLAGS.has(o)) options.push(o);
    else
      throw invalidArgument('DEN1326', `invalid --tmpfs option "${o}" in "${spec}"`, {
        hint: 'options are size=BYTES, mode=OCTAL, and mount flags such as exec, noexec, nosuid, nodev',
      });
  }
  const flags = new Set(options);
  const defaults = ['noexec', 'nosuid', 'nodev'].filter((d) => !flags.has(d) && !flags.has(d.replace(/^no/, '')));
  return {
    type: 'tmpfs',
    destination,
    readOnly,
    ...(size !== undefined ? { size } : {}),
    ...(mode !== undefined ? { mode } : {}),
    options: [...defaults, ...options.filter((o) => o !== 'tmpcopyup' && o !== 'notmpcopyup')],
    origin: 'tmpfs',
  };
}

/** --device HOST[:CONTAINER][:PERMISSIONS]. */
export function parseDevice(spec: string): DeviceSpec {
  const parts = spec.split(':');
  const bad = () =>
    invalidArgument('DEN1327', `invalid --device "${spec}"`, {
      hint: 'use --device /dev/HOST[:/dev/CONTAINER][:rwm]',
    });
  if (parts.length > 3 || !parts[0] || !isAbsolute(parts[0])) throw bad();
  let container = parts[0];
  let permissions = 'rwm';
  if (parts.length === 3) {
    container = parts[1]!;
    permissions = parts[2]!;
  } else if (parts.length === 2) {
    if (isAbsolute(parts[1]!)) container = parts[1]!;
    else permissions = parts[1]!;
  }
  if (!isAbsolute(container) || !/^[rwm]{1,3}$/.test(permissions)) throw bad();
  return { host: posix.normalize(parts[0]), container: posix.normalize(container), permissions };
}
