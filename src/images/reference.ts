import { invalidArgument } from '../common/errors.js';

/**
 * An image reference, normalised as docker does: `busybox` is docker.io/library/busybox:latest.
 * `familiar` gives back the short form docker prints (busybox:latest, myreg:5000/x/y:1).
 */
export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
/** A component of a repository path: lowercase alphanumerics joined by `.`, `_`, `__` or dashes. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** The longest repository path: the distribution registry's limit on a name. */
const MAX_REPOSITORY_PATH = 255;
/** Docker's NameTotalLengthMax: the longest repository name, domain included. */
const MAX_NAME = 255;
/** No valid reference is longer: a repository name, a tag of at most 128 and a digest. */
const MAX_INPUT = 1024;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN =
  /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*:[0-9]+|\[[a-fA-F0-9:]+\](?::[0-9]+)?)$/;

export function parseReference(input: string): Reference {
  const bad = (why: string) =>
    invalidArgument('DEN0410', `invalid reference format "${input}": ${why}`, {
      hint: 'use NAME[:TAG][@DIGEST] with a lowercase name, e.g. busybox:latest',
    });
  if (input.length === 0) throw bad('empty');
  // Bounds the work on hostile input; the limit that matters is the repository's, below.
  if (input.length > MAX_INPUT) throw bad(`longer than ${MAX_INPUT} characters`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`digest "${digest}" is malformed`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!isTag(tag)) throw bad(`tag "${tag}" is malformed`);
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0]!;
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  ) {
    if (!DOMAIN.test(first)) throw bad(`registry "${first}" is malformed`);
    domain = first;
    parts.shift();
  }
  if (parts.join('/').length > MAX_REPOSITORY_PATH) throw bad(`repository name longer than ${MAX_NAME} characters`);
  if (parts.length === 0 || !isRepositoryPath(parts.join('/'))) {
    throw bad(/[A-Z]/.test(rest) ? 'repository name must be lowercase' : 'repository name is malformed');
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref: Reference = { domain, path: parts.join('/') };
  // As docker does, the limit applies to the repository once normalised, not to what was typed:
  // `busybox` is stored as docker.io/library/busybox:latest, and a name den accepts must parse
  // again when it reads its own stored form back (den rmi, den images). The tag and digest come
  // on top, so a long name with a digest is valid.
  if (repositoryOf(ref).length > MAX_NAME) throw bad(`repository name longer than ${MAX_NAME} characters`);
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * Whether `path` is a repository path as registries name it, without the registry: `library/busybox`,
 * `a_b-c/e__f.g`; not `Busybox`, `a//b`, `-x` or anything longer than 255 characters. The one rule
 * for references, registry API paths and registries.json prefixes.
 */
export function isRepositoryPath(path: string): boolean {
  return path.length <= MAX_REPOSITORY_PATH && path.split('/').every((c) => PATH_COMPONENT.test(c));
}

/** Whether `tag` is a tag: a word character, then up to 127 word characters, dots and dashes. */
export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/** The repository part: docker.io/library/busybox. */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string, as stored: docker.io/library/busybox:latest. */
export function formatReference(ref: Reference): string {
  return `${repositoryOf(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/**
 * The repository as docker prints it: busybox, myreg:5000/x/y. It names the same repository when
 * typed back: library/ goes only from a one-component path (docker.io/library/a/b stays
 * library/a/b, as in docker), and docker.io/ stays when the path's first component would be read
 * as a registry (docker.io/foo.bar/x printed as foo.bar/x would pull from foo.bar; docker prints
 * that ambiguous form).
 */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryOf(ref);
  const rest = ref.path.slice('library/'.length);
  if (ref.path.startsWith('library/') && !rest.includes('/')) return rest;
  const first = ref.path.split('/')[0]!;
  return first.includes('.') || first === 'localhost' ? repositoryOf(ref) : ref.path;
}

export function familiarName(ref: Reference): string {
  return `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
