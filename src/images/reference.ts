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
  if (input.length > 255) throw bad('longer than 255 characters');
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
  if (parts.length === 0 || !isRepositoryPath(parts.join('/'))) {
    throw bad(/[A-Z]/.test(rest) ? 'repository name must be lowercase' : 'repository name is malformed');
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref: Reference = { domain, path: parts.join('/') };
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

/** The repository as docker prints it: busybox, myreg:5000/x/y. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryOf(ref);
  return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
}

export function familiarName(ref: Reference): string {
  return `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
