import { invalidArgument } from '../../common/errors.js';
import {
  compilePattern,
  familiarName,
  matchesReference,
  parseReference,
  type ImageRecord,
} from '../../images/index.js';
import type { EngineContext } from '../context.js';

/**
 * Which images `den images` (docker's GET /images/json) lists, as docker's filters say:
 *
 *   dangling   true: images with neither a tag nor a repository digest; false: the others
 *   reference  shell patterns (compilePattern); an image stays with the names that match any
 *   label      KEY or KEY=VALUE among the image's labels; every one given must hold
 *   before     images created before this one (a name or id)
 *   since      images created after this one
 */
export interface ImageFilters {
  dangling?: boolean;
  reference?: string[];
  label?: { key: string; value?: string }[];
  before?: string;
  since?: string;
}

/** An image as docker's ImageSummary lists it (API 1.41), names in their familiar form. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  /** Seconds since the epoch. */
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/**
 * `--filter KEY=VALUE` entries (docker's syntax) into ImageFilters; unknown keys and values are
 * refused, as docker does.
 */
export function parseImageFilters(entries: string[]): ImageFilters {
  const filters: ImageFilters = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw invalidArgument('DEN0425', `bad format of filter "${entry}" (expected name=value)`, {
        hint: 'filters: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE',
      });
    }
    const key = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') {
          throw invalidArgument('DEN0425', `invalid filter "${entry}": dangling is true or false`);
        }
        filters.dangling = value === 'true' || value === '1';
        break;
      case 'reference':
        compilePattern(value); // refused now, not after the first image
        (filters.reference ??= []).push(value);
        break;
      case 'label': {
        const at = value.indexOf('=');
        (filters.label ??= []).push(at < 0 ? { key: value } : { key: value.slice(0, at), value: value.slice(at + 1) });
        break;
      }
      case 'before':
      case 'since':
        filters[key] = value;
        break;
      default:
        throw invalidArgument('DEN0425', `invalid filter "${key}"`, {
          hint: 'filters: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE',
        });
    }
  }
  return filters;
}

/** When an image was created, for before and since: its config's time, else when den stored it. */
function createdMs(image: ImageRecord): number {
  return Date.parse(image.config.created ?? image.createdAt);
}

/**
 * The images the filters select, newest first, each with the tags and digests (canonical) that
 * the reference filter let through. Pure: `resolve` finds the images before and since name.
 */
export function selectImages(
  images: ImageRecord[],
  filters: ImageFilters,
  resolve: (ref: string) => ImageRecord,
): ImageRecord[] {
  const patterns = filters.reference?.map(compilePattern);
  const before = filters.before !== undefined ? createdMs(resolve(filters.before)) : undefined;
  const since = filters.since !== undefined ? createdMs(resolve(filters.since)) : undefined;
  const selected: ImageRecord[] = [];
  for (const image of images) {
    const dangling = image.names.length === 0 && image.digests.length === 0;
    if (filters.dangling !== undefined && filters.dangling !== dangling) continue;
    const labels = image.config.config?.Labels ?? {};
    if (
      filters.label?.some((l) => !Object.hasOwn(labels, l.key) || (l.value !== undefined && labels[l.key] !== l.value))
    )
      continue;
    if (before !== undefined && !(createdMs(image) < before)) continue;
    if (since !== undefined && !(createdMs(image) > since)) continue;
    if (!patterns) {
      selected.push(image);
      continue;
    }
    const keep = (n: string) => patterns.some((p) => matchesReference(p, parseReference(n)));
    const names = image.names.filter(keep);
    const digests = image.digests.filter(keep);
    // An image with no name left is not listed: the pattern matched nothing of it.
    if (names.length > 0 || digests.length > 0) selected.push({ ...image, names, digests });
  }
  return selected.sort((a, b) => createdMs(b) - createdMs(a));
}

/**
 * `den images`: docker's ImageSummary of each image the filters select. den has no intermediate
 * images (it never builds), so docker's `all` changes nothing and is not asked for.
 */
export function listImages(ctx: EngineContext, filters: ImageFilters = {}): ImageSummary[] {
  const containers = new Map<string, number>();
  for (const c of ctx.containers.list()) containers.set(c.imageId, (containers.get(c.imageId) ?? 0) + 1);
  return selectImages(ctx.images.list(), filters, (ref) => ctx.images.resolve(ref)).map((image) => ({
    Id: image.id,
    ParentId: '',
    RepoTags: image.names.map((n) => familiarName(parseReference(n))),
    RepoDigests: image.digests.map((n) => familiarName(parseReference(n))),
    Created: Math.floor(createdMs(image) / 1000),
    Size: image.size,
    SharedSize: -1,
    VirtualSize: image.size,
    Labels: image.config.config?.Labels ?? {},
    Containers: containers.get(image.id) ?? 0,
  }));
}
