import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import type { EngineContext } from '../../engine/index.js';
import { familiarRepository, parseReference } from '../../images/index.js';
import { ago, formatRows, humanSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'images',
  usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  maxArgs: 1,
  flags: [
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.ID}}' },
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
  const filter = p.args[0] ? parseReference(p.args[0]) : undefined;
  const rows: Record<string, unknown>[] = [];
  for (const image of ctx.images.list()) {
    const id = noTrunc ? image.id : image.id.slice(7, 19);
    const names = image.names.length > 0 ? image.names.map((n) => parseReference(n)) : [undefined];
    for (const ref of names) {
      if (filter && (!ref || ref.path !== filter.path || ref.domain !== filter.domain)) continue;
      if (filter && p.args[0]!.includes(':') && ref?.tag !== filter.tag) continue;
      rows.push({
        ID: id,
        Repository: ref ? familiarRepository(ref) : '<none>',
        Tag: ref?.tag ?? '<none>',
        Digest: image.manifestDigest,
        CreatedSince: ago(image.createdAt),
        CreatedAt: image.createdAt,
        Size: humanSize(image.size),
      });
    }
  }
  if (bool(p, 'quiet')) {
    process.stdout.write([...new Set(rows.map((r) => r.ID as string))].map((id) => `${id}\n`).join(''));
    return 0;
  }
  process.stdout.write(formatRows(str(p, 'format'), rows, IMAGES_FORMAT));
  return 0;
}
