import { invalidArgument } from '../../common/errors.js';
import { trace } from '../../common/trace.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';
import { readFileSync } from 'node:fs';
import { notFound } from '../../common/errors.js';
import {
  createContainer,
  envFileEntries,
  parseNetwork,
  parseUserns,
  parseVolume,
  resolveEnv,
  runAttached,
  type CreateSpec,
  type EngineContext,
} from '../../engine/index.js';
import { rawTerminalOutput } from '../raw-output.js';
import { shiftProgress } from '../shift-progress.js';
import { interruptible } from '../interrupt.js';
import { pullOptions, pullReporting, registryFlags } from './pull.js';

export const createFlags: CommandSpec['flags'] = [
  { long: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open and pass it to the container' },
  { long: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { long: 'env', short: 'e', type: 'list', help: 'Set environment variables', value: 'list' },
  { long: 'env-file', type: 'list', help: 'Read in a file of environment variables', value: 'list' },
  { long: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  { long: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { long: 'name', type: 'string', help: 'Assign a name to the container' },
  { long: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { long: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { long: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { long: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume (HOST:CONTAINER[:ro])', value: 'list' },
  { long: 'network', type: 'string', help: 'Connect a container to a network: host (default) or none' },
  { long: 'net', type: 'string', help: 'Alias of --network' },
  { long: 'runtime', type: 'string', help: 'OCI runtime to use: crun (default; DEN_RUNTIME sets it) or runc' },
  {
    long: 'userns',
    type: 'string',
    help:
      'User namespace: auto[:size=N] (a range of its own), host, keep-id[:uid=U,gid=G] (rootless); ' +
      'default auto as root, and rootless where `den system check` says so; DEN_USERNS sets it',
  },
  {
    long: 'uidmap',
    type: 'list',
    help: 'UID map CONTAINER:HOST:SIZE (rootless, HOST is an id of your session)',
    value: 'list',
  },
  { long: 'gidmap', type: 'list', help: 'GID map CONTAINER:HOST:SIZE (as --uidmap)', value: 'list' },
  {
    long: 'pull',
    type: 'string',
    help: 'Pull image before running: always, missing (default) or never',
    value: 'string',
  },
  { long: 'platform', type: 'string', help: 'Platform os/arch[/variant] of the image to pull', value: 'string' },
  { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
  ...registryFlags,
];

/**
 * `--pull`: makes sure the image is there, pulling it (output on stderr, as docker) when asked to
 * or when it is missing. Returns the name to create the container from: the pulled reference, as
 * a short name may have resolved to a registry other than docker.io.
 */
export async function ensureImage(p: Parsed, ctx: EngineContext): Promise<string> {
  const image = p.args[0]!;
  const policy = str(p, 'pull') ?? 'missing';
  if (policy !== 'always' && policy !== 'missing' && policy !== 'never') {
    throw invalidArgument('DEN0703', `invalid --pull "${policy}"`, { hint: 'use always, missing or never' });
  }
  if (policy === 'never' || (policy === 'missing' && ctx.images.find(image))) return image;
  const quiet = bool(p, 'quiet');
  if (policy === 'missing' && !quiet) process.stderr.write(`Unable to find image '${image}' locally\n`);
  return interruptible((signal) => pullReporting(ctx, { ...pullOptions(p, image), signal }, process.stderr, quiet));
}

export const spec: CommandSpec = {
  path: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  stopAtPositional: true,
  minArgs: 1,
  // docker's status when docker itself fails to create or run a container.
  failureStatus: 125,
  flags: [{ long: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' }, ...createFlags],
};

/**
 * The container's spec from the flags. Everything that is the caller's is resolved here, not in
 * the engine: env files are read, and `-e NAME` takes its value from den's own environment.
 */
export function createSpec(p: Parsed, autoRemove: boolean): CreateSpec {
  const [image = '', ...command] = p.args;
  const entrypoint = str(p, 'entrypoint');
  const fromCaller = (name: string) => process.env[name];
  const envFileLines = list(p, 'env-file').flatMap((file) => envFileEntries(readEnvFile(file)));
  return {
    image,
    command,
    ...(entrypoint !== undefined ? { entrypoint: entrypoint === '' ? [] : [entrypoint] } : {}),
    env: resolveEnv([...envFileLines, ...list(p, 'env')], fromCaller),
    workdir: str(p, 'workdir'),
    user: str(p, 'user'),
    name: str(p, 'name'),
    hostname: str(p, 'hostname'),
    readOnly: bool(p, 'read-only'),
    binds: list(p, 'volume').map(parseVolume),
    network: parseNetwork(str(p, 'network') ?? str(p, 'net')),
    runtime: str(p, 'runtime'),
    userns: parseUserns(str(p, 'userns'), list(p, 'uidmap'), list(p, 'gidmap')),
    tty: bool(p, 'tty'),
    interactive: bool(p, 'interactive'),
    autoRemove,
  };
}

function readEnvFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw notFound('DEN0625', `env file ${file}: ${(e as Error).message}`);
  }
}

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  trace('flags parsed');
  // Flags are checked before anything is pulled; the pull may resolve a short name to a registry.
  const spec = createSpec(p, bool(p, 'rm'));
  spec.image = await ensureImage(p, ctx);
  const container = await createContainer(ctx, spec, shiftProgress());
  trace('container created');
  const stdout = process.stdout;
  return runAttached(ctx, container, {
    stdinIsTTY: process.stdin.isTTY === true,
    stdin: process.stdin,
    stdout,
    ...(stdout.isTTY ? { consoleSize: { height: stdout.rows, width: stdout.columns } } : {}),
    onResize: (resized) => {
      if (!stdout.isTTY) return () => {};
      const listener = () => resized({ height: stdout.rows, width: stdout.columns });
      stdout.on('resize', listener);
      return () => stdout.off('resize', listener);
    },
    setRawMode: (raw) => {
      if (process.stdin.isTTY) process.stdin.setRawMode(raw);
    },
    rawOutput: () => (stdout.isTTY ? rawTerminalOutput(stdout.fd) : () => {}),
  });
}
