import { invalidArgument } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { ImageRecord } from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from './container-state.js';

/**
 * Which containers `den ps` lists (docker's GET /containers/json), and their sizes.
 *
 * Filters are docker's: each `--filter KEY=VALUE` adds a value to its key; a container passes a
 * key when it matches one of the key's values (label: all of them, as docker's MatchKVList), and
 * it is listed when it passes every key given. Each key is one entry of CONTAINER_FILTERS.
 */
export type ContainerFilters = ReadonlyMap<string, readonly string[]>;

/** What a filter key may ask beyond the container itself, looked up once per listing. */
export interface FilterScope {
  /** A container by name, id or id prefix (before, since). */
  container(ref: string): ContainerRecord;
  /** Where a container stands in the listing, newest first (before, since). */
  position(c: ContainerRecord): number;
  /** An image by name (with or without tag) or id, if there is one (ancestor). */
  image(ref: string): ImageRecord | undefined;
}

/** One `--filter` key: what values it takes, and whether a container passes its values. */
export interface ContainerFilterKey {
  /** Refuses a value the key cannot take, when the filters are parsed (before anything is listed). */
  check?(value: string): void;
  match(c: ContainerRecord, values: readonly string[], scope: FilterScope): boolean;
  /** Looks up what the values name once, before any container is matched (a missing one is an error even in an empty list). */
  prepare?(values: readonly string[], scope: FilterScope): void;
  /** Lists stopped containers without --all (docker's status filter does). */
  showsAll?: boolean;
}

/** docker's State strings; den never has docker's `dead`, but docker's filter accepts it. */
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;

/**
 * docker's filters.Match: the value equals the text, or is a regular expression found in it (a
 * value that is not a valid expression matches only itself).
 */
export function matchesText(value: string, text: string): boolean {
  if (value === text) return true;
  try {
    return new RegExp(value).test(text);
  } catch {
    return false;
  }
}

function filterError(entry: string, why?: string) {
  return invalidArgument('DEN1140', `invalid filter '${entry}'${why ? `: ${why}` : ''}`, {
    hint: `filters: ${Object.keys(CONTAINER_FILTERS).join(', ')} (docker's, as in \`den ps --help\`)`,
  });
}

/** The key and value of a label filter: KEY or KEY=VALUE. */
function labelOf(value: string): { key: string; value?: string } {
  const eq = value.indexOf('=');
  return eq < 0 ? { key: value } : { key: value.slice(0, eq), value: value.slice(eq + 1) };
}

/** True when the container's labels hold every `label` value given (docker's MatchKVList). */
export function matchesLabels(labels: Readonly<Record<string, string>>, values: readonly string[]): boolean {
  return values.every((v) => {
    const l = labelOf(v);
    return Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value);
  });
}

/**
 * Whether the container runs `image` or an image made on top of it. An image's top chain id names
 * all of its layers, so an image descends from another when its layer at the other's top position
 * is the other's top layer; the container's own record of its layers answers, even after its
 * image was removed.
 */
function descendsFrom(c: ContainerRecord, image: ImageRecord): boolean {
  if (c.imageId === image.id) return true;
  const top = image.layers.at(-1);
  if (!top) return false;
  return c.config.layers[image.layers.length - 1] === top.chainId.replace(/^sha256:/, '');
}

/** A container's exit status, once it has ended (exited from a start; never for one only created). */
function endedWith(c: ContainerRecord): number | undefined {
  return c.status === 'exited' && c.startedAt !== null ? (c.exitCode ?? -1) : undefined;
}

/**
 * docker's `ps --filter` keys. Another key is one more entry: its name, the values it refuses, and
 * when a container passes.
 */
export const CONTAINER_FILTERS: Record<string, ContainerFilterKey> = {
  status: {
    check(value) {
      if (!(STATES as readonly string[]).includes(value)) throw filterError(`status=${value}`);
    },
    match: (c, values) => values.includes(c.status),
    showsAll: true,
  },
  name: {
    match: (c, values) => values.some((v) => matchesText(v, `/${c.name}`) || matchesText(v, c.name)),
  },
  id: {
    match: (c, values) => values.some((v) => matchesText(v, c.id)),
  },
  label: {
    match: (c, values) => matchesLabels(c.config.labels ?? {}, values),
  },
  ancestor: {
    match: (c, values, scope) =>
      values.some((v) => {
        const image = scope.image(v);
        return image !== undefined && descendsFrom(c, image);
      }),
  },
  exited: {
    check(value) {
      if (!/^-?[0-9]+$/.test(value)) throw filterError(`exited=${value}`, 'an exit code is a number');
    },
    match: (c, values) => values.some((v) => Number(v) === endedWith(c)),
  },
  before: {
    prepare: (values, scope) => values.forEach((v) => scope.container(v)),
    match: (c, values, scope) => values.every((v) => scope.position(c) > scope.position(scope.container(v))),
  },
  since: {
    prepare: (values, scope) => values.forEach((v) => scope.container(v)),
    match: (c, values, scope) => values.every((v) => scope.position(c) < scope.position(scope.container(v))),
  },
};

/** `--filter KEY=VALUE` entries into filters; an unknown key or a value its key refuses is an error. */
export function parseContainerFilters(entries: readonly string[]): ContainerFilters {
  const filters = new Map<string, string[]>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw filterError(entry, 'expected KEY=VALUE');
    const key = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    const filter = CONTAINER_FILTERS[key];
    if (!filter) throw filterError(key);
    filter.check?.(value);
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

export interface ListContainersOptions {
  /** Stopped containers too (docker's -a). */
  all?: boolean;
  filters?: ContainerFilters;
  /** At most this many, newest first, whatever their status (docker's -n; -l is 1). */
  last?: number;
  /** Measure each container's writable layer (docker's -s). */
  size?: boolean;
}

/** A listed container, with its sizes when they were asked for (docker's SizeRw and SizeRootFs). */
export interface ListedContainer {
  container: ContainerRecord;
  /** Bytes of the files in its writable layer. */
  sizeRw?: number;
  /** That, and its image's. */
  sizeRootFs?: number;
}

/**
 * `den ps`: the containers the options select, newest first, each record corrected first
 * (reconcile: a container whose monitor died is shown exited).
 */
export function listContainers(ctx: EngineContext, options: ListContainersOptions = {}): ListedContainer[] {
  const filters = options.filters ?? new Map<string, string[]>();
  const every = ctx.containers.list().map((c) => reconcile(ctx, c));
  const order = new Map(every.map((c, i) => [c.id, i]));
  const images = new Map<string, ImageRecord | undefined>();
  const scope: FilterScope = {
    container: (ref) => ctx.containers.resolve(ref),
    position: (c) => order.get(c.id) ?? -1,
    image(ref) {
      if (!images.has(ref)) images.set(ref, ctx.images.find(ref));
      return images.get(ref);
    },
  };
  for (const [key, values] of filters) CONTAINER_FILTERS[key]!.prepare?.(values, scope);
  const limit = options.last !== undefined && options.last > 0 ? options.last : undefined;
  const all =
    options.all === true || limit !== undefined || [...filters.keys()].some((k) => CONTAINER_FILTERS[k]?.showsAll);
  const selected = every
    .filter((c) => all || isActive(c.status))
    .filter((c) => [...filters].every(([key, values]) => CONTAINER_FILTERS[key]!.match(c, values, scope)))
    .slice(0, limit);
  if (!options.size) return selected.map((container) => ({ container }));
  const sizes = writableLayerSizes(
    ctx,
    selected.map((c) => c.id),
  );
  return selected.map((container) => {
    const sizeRw = sizes.get(container.id) ?? 0;
    const imageSize = ctx.images.byId(container.imageId as ImageRecord['id'])?.size ?? 0;
    return { container, sizeRw, sizeRootFs: sizeRw + imageSize };
  });
}

/**
 * The bytes of each container's writable layer (its upper directory), counted as docker counts
 * them: every entry but directories, by its own size, a file with several links once. The files
 * belong to the container's ids, which rootless den cannot read outside its session, so one
 * `find` lists them in the namespaces for every container at once.
 */
export function writableLayerSizes(ctx: EngineContext, ids: readonly string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  const uppers = new Map(ids.map((id) => [ctx.layout.bundle(id).upper, id]));
  if (uppers.size === 0) return sizes;
  const r = runSync(
    ctx.ns.wrap(['find', ...uppers.keys(), '-xdev', '!', '-type', 'd', '-printf', '%H\\t%i\\t%n\\t%s\\n']),
  );
  // A container whose upper directory is gone (being removed) counts 0; find says so on stderr.
  const seen = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const [dir, inode, links, size] = line.split('\t');
    const id = dir === undefined ? undefined : uppers.get(dir);
    if (id === undefined || size === undefined) continue;
    if (Number(links) > 1) {
      if (seen.has(`${id}:${inode}`)) continue;
      seen.add(`${id}:${inode}`);
    }
    sizes.set(id, (sizes.get(id) ?? 0) + Number(size));
  }
  return sizes;
}
