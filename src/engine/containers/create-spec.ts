import { isAbsolute, normalize } from 'node:path';
import { DenError, invalidArgument } from '../../common/errors.js';
import type { BindSpec, ContainerLimits } from '../../containers/index.js';
import { parseIdMapSpec, validateIdMap, type IdMap } from '../../idmap/index.js';
import type { NetworkMode } from '../../network/index.js';

/**
 * What a container is to be, as the engine takes it: typed, every docker string syntax already
 * parsed. The CLI builds it from flags (`den create`, `den run`); an API server builds the same
 * from the JSON of a create request. Nothing in it refers to the caller's world: `-e NAME` has
 * been resolved against the caller's environment and env files have been read, by the caller.
 *
 *   const spec: CreateSpec = {
 *     image: 'busybox', command: ['sh', '-c', 'id'], env: ['A=1'],
 *     binds: [parseVolume('/srv/data:/data:ro')], network: parseNetwork('none'),
 *     userns: parseUserns('auto', [], []), tty: false, interactive: false, autoRemove: true, readOnly: false,
 *   };
 *   const record = await createContainer(ctx, spec);
 */
export interface CreateSpec {
  /** The image's name or id, as the user gave it. */
  image: string;
  /** Arguments after the image: replace the image's CMD. */
  command: string[];
  /** Replaces the image's ENTRYPOINT and drops its CMD, as docker does; `[]` clears it. */
  entrypoint?: string[];
  /** NAME=VALUE entries, applied over the image's in order (a later one wins). */
  env: string[];
  workdir?: string;
  /** -u: a user or uid, optionally :group or :gid, looked up in the image. */
  user?: string;
  name?: string;
  hostname?: string;
  readOnly: boolean;
  binds: BindSpec[];
  network: NetworkMode;
  /** An OCI runtime's name (crun, runc) or path; the engine's default when absent. */
  runtime?: string;
  userns: UsernsRequest;
  tty: boolean;
  interactive: boolean;
  autoRemove: boolean;
  /**
   * --memory, --cpus, --pids-limit, --ulimit ... as given (limits.ts parses docker's syntax); the
   * engine applies docker's rules (swap twice the memory unless given, 0 for none).
   */
  limits?: ContainerLimits;
}

/**
 * --userns modes, as podman names them:
 *   auto[:size=N]  a range of its own, allocated without overlap: as root from the pool of the
 *                  system user den, rootless from the caller's subordinate ids
 *   host           rootless: the session's own mapping; as root: ids map one to one
 *   --uidmap/--gidmap  an explicit mapping; rootless, its host ids are the session's
 *   keep-id[:uid=U,gid=G]  rootless: the caller's uid and gid are the same inside
 *   default        none asked for: the engine's configuration or den's choice (defaultUserns)
 */
export type UsernsRequest =
  | { mode: 'default' }
  | { mode: 'host' }
  | { mode: 'auto'; size?: number }
  | { mode: 'keep-id'; uid?: number; gid?: number }
  | { mode: 'explicit'; uidMap: IdMap; gidMap: IdMap };

/** `--userns`, `--uidmap` and `--gidmap` together (they exclude each other). */
export function parseUserns(userns: string | undefined, uidmaps: string[], gidmaps: string[]): UsernsRequest {
  if (uidmaps.length > 0 || gidmaps.length > 0) {
    if (userns !== undefined) throw invalidArgument('DEN0670', '--userns cannot be combined with --uidmap or --gidmap');
    const uidMap = uidmaps.flatMap((m) => parseIdMapSpec(m, '--uidmap'));
    const gidMap = gidmaps.length > 0 ? gidmaps.flatMap((m) => parseIdMapSpec(m, '--gidmap')) : uidMap;
    if (uidMap.length === 0) throw invalidArgument('DEN0671', '--gidmap needs --uidmap as well');
    validateIdMap(uidMap, 'uid');
    validateIdMap(gidMap, 'gid');
    return { mode: 'explicit', uidMap, gidMap };
  }
  if (userns === undefined || userns === '') return { mode: 'default' };
  if (userns === 'host') return { mode: 'host' };
  const auto = /^auto(?::(.*))?$/.exec(userns);
  if (auto) {
    if (auto[1] === undefined) return { mode: 'auto' };
    const size = /^size=([0-9]+)$/.exec(auto[1]);
    if (!size || Number(size[1]) < 1)
      throw invalidArgument('DEN0672', `--userns=${userns}: expected auto or auto:size=N`);
    return { mode: 'auto', size: Number(size[1]) };
  }
  const keep = /^keep-id(?::(.*))?$/.exec(userns);
  if (keep) {
    const request: UsernsRequest & { mode: 'keep-id' } = { mode: 'keep-id' };
    for (const option of keep[1] ? keep[1].split(',') : []) {
      const m = /^(uid|gid)=([0-9]+)$/.exec(option);
      if (!m) throw invalidArgument('DEN0679', `--userns=${userns}: expected keep-id[:uid=U,gid=G]`);
      request[m[1] as 'uid' | 'gid'] = Number(m[2]);
    }
    return request;
  }
  if (userns === 'nomap') {
    throw new DenError('FailedPrecondition', 'DEN0673', `--userns=${userns} is not supported yet`, {
      hint: 'use --userns=host (rootless) or --userns=auto (root)',
    });
  }
  throw invalidArgument('DEN0674', `invalid --userns "${userns}"`, {
    hint: 'use auto[:size=N], host, or --uidmap/--gidmap',
  });
}

/**
 * `--network`: host (the default until user-mode networking lands: the caller's own network, what a
 * rootless user can reach anyway) or none (loopback only); the rest are refused with what den has.
 */
export function parseNetwork(network: string | undefined): NetworkMode {
  if (network === undefined || network === 'host' || network === 'none') return network ?? 'host';
  if (network === 'bridge' || network === 'pasta' || network === 'slirp4netns' || network.startsWith('container:')) {
    throw new DenError('FailedPrecondition', 'DEN0626', `network mode "${network}" is not supported yet`, {
      hint: 'use --network host or --network none',
    });
  }
  throw invalidArgument('DEN0627', `network ${network} not found`, { hint: 'use --network host or --network none' });
}

/**
 * -v HOST:CONTAINER[:OPTIONS]; options ro, rw, and SELinux's z/Z (no SELinux here, so accepted and
 * ignored). Only the syntax: whether the source exists is the engine's to check when it creates.
 */
export function parseVolume(spec: string): BindSpec {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw invalidArgument('DEN0628', `invalid volume specification "${spec}"`, {
      hint: 'use -v /host/path:/container/path[:ro]',
    });
  }
  const [source, destination, opts = ''] = parts as [string, string, string?];
  if (!isAbsolute(source)) {
    throw new DenError('FailedPrecondition', 'DEN0629', `volume "${source}": named volumes are not supported yet`, {
      hint: 'give an absolute host path',
    });
  }
  if (!isAbsolute(destination)) {
    throw invalidArgument('DEN0630', `invalid volume specification "${spec}": the container path must be absolute`);
  }
  let readOnly = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (o !== 'z' && o !== 'Z') throw invalidArgument('DEN0631', `invalid volume option "${o}" in "${spec}"`);
  }
  const dest = normalize(destination);
  if (dest === '/') throw invalidArgument('DEN0633', `invalid volume specification "${spec}": cannot mount over /`);
  return { source: normalize(source), destination: dest, readOnly };
}

/**
 * `-e` entries as docker reads them: NAME=VALUE, or NAME alone to pass the caller's value through
 * (dropped when the caller has none). `lookup` is the caller's environment: the CLI's own, never
 * the engine's process (inside a server that would hand the server's environment to a container).
 */
export function resolveEnv(entries: readonly string[], lookup: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq === 0) throw invalidArgument('DEN0624', `invalid environment variable "${entry}": empty name`);
    if (eq > 0) {
      out.push(entry);
      continue;
    }
    const value = lookup(entry);
    if (value !== undefined) out.push(`${entry}=${value}`);
  }
  return out;
}

/** The lines of an --env-file that are entries: blank lines and # comments are not. */
export function envFileEntries(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}
