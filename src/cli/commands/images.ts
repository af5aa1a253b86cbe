import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str, usageError } from '../flags.js';
import { listImages, parseImageFilters, type EngineContext, type ImageSummary } from '../../engine/index.js';
import { familiarRepository, parseReference } from '../../images/index.js';
import { configuredFormat } from '../configured-format.js';
import { ago, formatRows, humanSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'images',
  usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  maxArgs: 1,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all images (den has no intermediate images to hide)' },
    { long: 'digests', type: 'bool', help: 'Show digests' },
    {
      long: 'filter',
      short: 'f',
      type: 'list',
      value: 'filter',
      help: 'Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE',
    },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    {
      long: 'format',
      type: 'string',
      help: "Format output: table, json, or a template like {{.ID}} (default: docker's config.json imagesFormat, else table)",
    },
  ],
};

/** docker's `images` table and column titles (docker/cli formatter/image.go). */
const IMAGES_FORMAT: ListFormat = {
  defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  titles: {
    ID: 'IMAGE ID',
    Repository: 'REPOSITORY',
    Tag: 'TAG',
    Digest: 'DIGEST',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    Size: 'SIZE',
    Containers: 'CONTAINERS',
    SharedSize: 'SHARED SIZE',
    UniqueSize: 'UNIQUE SIZE',
    VirtualSize: 'VIRTUAL SIZE',
  },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const noTrunc = bool(p, 'no-trunc');
  const digests = bool(p, 'digests');
  // A filter that is not name=value is refused by docker's flag parser, with its flag error status.
  for (const f of list(p, 'filter')) {
    if (!f.includes('='))
      throw usageError(
        spec,
        `invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
  }
  // As docker: REPOSITORY[:TAG] is one more reference pattern.
  const filters = parseImageFilters([...list(p, 'filter'), ...p.args.map((a) => `reference=${a}`)]);
  const rows: Record<string, unknown>[] = [];
  for (const image of listImages(ctx, filters)) {
    const id = noTrunc ? image.Id : image.Id.slice(7, 19);
    const created = new Date(image.Created * 1000).toISOString();
    for (const row of imageRows(image, digests)) {
      rows.push({
        ID: id,
        Repository: row.repository,
        Tag: row.tag,
        Digest: row.digest,
        CreatedSince: ago(created),
        CreatedAt: created,
        Size: humanSize(image.Size),
      });
    }
  }
  if (bool(p, 'quiet')) {
    process.stdout.write([...new Set(rows.map((r) => r.ID as string))].map((id) => `${id}\n`).join(''));
    return 0;
  }
  // --digests adds docker's DIGEST column after TAG.
  const format: ListFormat = digests
    ? {
        ...IMAGES_FORMAT,
        defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
      }
    : IMAGES_FORMAT;
  // Without --format, docker's config.json may set one (imagesFormat).
  process.stdout.write(formatRows(str(p, 'format') || configuredFormat('imagesFormat'), rows, format));
  return 0;
}

interface Row {
  repository: string;
  tag: string;
  digest: string;
}

/**
 * docker's rows for one image: one per tag (per tag and digest of its repository with
 * --digests), one per repository known only by digest, `<none>` for what is missing.
 */
export function imageRows(image: ImageSummary, withDigests: boolean): Row[] {
  const tags = new Map<string, string[]>();
  const digests = new Map<string, string[]>();
  for (const name of image.RepoTags) {
    const ref = parseReference(name);
    const repo = familiarRepository(ref);
    tags.set(repo, [...(tags.get(repo) ?? []), ref.tag ?? '<none>']);
  }
  for (const name of image.RepoDigests) {
    const ref = parseReference(name);
    const repo = familiarRepository(ref);
    digests.set(repo, [...(digests.get(repo) ?? []), ref.digest ?? '<none>']);
  }
  const rows: Row[] = [];
  for (const [repository, repoTags] of tags) {
    const repoDigests = withDigests ? (digests.get(repository) ?? []) : [];
    digests.delete(repository);
    for (const tag of repoTags) {
      if (repoDigests.length === 0) rows.push({ repository, tag, digest: '<none>' });
      for (const digest of repoDigests) rows.push({ repository, tag, digest });
    }
  }
  for (const [repository, repoDigests] of digests) {
    if (withDigests) for (const digest of repoDigests) rows.push({ repository, tag: '<none>', digest });
    else rows.push({ repository, tag: '<none>', digest: repoDigests[0]! });
  }
  if (rows.length === 0) rows.push({ repository: '<none>', tag: '<none>', digest: '<none>' });
  return rows;
}
