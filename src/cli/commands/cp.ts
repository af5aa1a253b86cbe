import { posix, resolve } from 'node:path';
import { invalidArgument } from '../../common/errors.js';
import {
  archiveFromContainer,
  copyFromContainer,
  copyToContainer,
  extractToContainer,
  type EngineContext,
} from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { humanSize } from '../output.js';

export const spec: CommandSpec = {
  path: 'cp',
  usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tden cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem',
  minArgs: 2,
  maxArgs: 2,
  failureStatus: 1,
  flags: [
    {
      long: 'archive',
      short: 'a',
      type: 'bool',
      help: "Archive mode: files copied in keep their uid/gid (else they are the container's root's)",
    },
    { long: 'follow-link', short: 'L', type: 'bool', help: 'Follow a symbolic link at the end of SRC_PATH' },
    {
      long: 'quiet',
      short: 'q',
      type: 'bool',
      help: 'Say nothing of the copy (the default when stdout is not a terminal)',
    },
  ],
};

/**
 * docker's `cp`: one side is CONTAINER:PATH, the other a local path or `-` (a tar stream on stdout
 * or stdin). A local path may hold `:` when it starts with `/` or `.` (`./a:b`), as in docker.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [source, destination] = p.args as [string, string];
  if (source === '') throw usage('source can not be empty');
  if (destination === '') throw usage('destination can not be empty');
  const from = splitCpArg(source);
  const to = splitCpArg(destination);
  if (from.container !== undefined && to.container !== undefined) {
    throw usage('copying between containers is not supported');
  }
  const archive = bool(p, 'archive');
  const followLink = bool(p, 'follow-link');
  // docker reports a copy only to a terminal, and never when the archive itself goes to stdout.
  const report = !(p.flags.has('quiet') ? bool(p, 'quiet') : !process.stdout.isTTY);
  let bytes: number;
  if (from.container !== undefined) {
    const spec = { container: from.container, path: from.path, followLink };
    if (to.path === '-') {
      await archiveFromContainer(ctx, spec, process.stdout);
      return 0;
    }
    bytes = await copyFromContainer(ctx, { ...spec, dest: localPath(to.path) });
  } else if (to.container !== undefined) {
    const spec = { container: to.container, path: to.path, keepOwners: archive };
    if (from.path === '-') {
      await extractToContainer(ctx, spec, process.stdin);
      return 0;
    }
    bytes = await copyToContainer(ctx, { ...spec, src: localPath(from.path), followLink });
  } else {
    throw usage('must specify at least one container source');
  }
  if (report) process.stderr.write(`Successfully copied ${humanSize(bytes)} to ${destination}\n`);
  return 0;
}

/** CONTAINER:PATH, or a local path: absolute, `./...`, or without a colon (docker's splitCpArg). */
function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** A local path made absolute, with the trailing `/` or `/.` that say what it must be. */
function localPath(path: string): string {
  const abs = resolve(path);
  if ((path === '.' || path.endsWith('/.')) && !abs.endsWith('/.')) return abs === '/' ? '/.' : `${abs}/.`;
  if (path.endsWith('/') && !abs.endsWith('/')) return `${abs}/`;
  return posix.normalize(abs);
}

function usage(message: string) {
  return invalidArgument('DEN0665', message, { hint: "See 'den cp --help'." });
}
