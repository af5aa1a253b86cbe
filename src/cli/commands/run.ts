import { DenError, invalidArgument } from '../../common/errors.js';
import type { UsageFailure } from '../errors.js';
import { trace } from '../../common/trace.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';
import { readFileSync } from 'node:fs';
import { notFound } from '../../common/errors.js';
import {
  createContainer,
  envFileEntries,
  parseLabels,
  parseLogConfig,
  parseNetwork,
  parseRestartPolicy,
  parseSecurity,
  parseSignal,
  parseUserns,
  planLimits,
  resolveEnv,
  removeContainer,
  runAttached,
  startContainer,
  type AttachIO,
  type CreateSpec,
  type EngineContext,
} from '../../engine/index.js';
import { rawTerminalOutput } from '../raw-output.js';
import { shiftProgress } from '../shift-progress.js';
import { interruptible } from '../interrupt.js';
import { limitFlags, limitsFromFlags } from '../limit-flags.js';
import { networkFlags, networkSettingsFromFlags } from '../network-flags.js';
import { mountFlags, mountsFromFlags } from '../mount-flags.js';
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
  {
    long: 'network',
    type: 'string',
    help:
      'Connect a container to a network: pasta (the default; slirp4netns where pasta is missing), ' +
      'slirp4netns[:OPTIONS], pasta[:OPTIONS], host, none, container:NAME, or a network',
  },
  { long: 'net', type: 'string', help: 'Alias of --network' },
  { long: 'runtime', type: 'string', help: 'OCI runtime to use: crun (default; DEN_RUNTIME sets it) or runc' },
  {
    long: 'userns',
    type: 'string',
    help:
      'User namespace: auto[:size=N] (a range of its own), host, keep-id[:uid=U,gid=G] (rootless); ' +
      'default auto as root, host rootless; DEN_USERNS or `userns =` in den.conf sets it',
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
  { long: 'label', short: 'l', type: 'list', help: 'Set meta data on a container', value: 'list' },
  {
    long: 'restart',
    type: 'string',
    help: 'Restart policy when the container exits: no, on-failure[:max-retries], always, unless-stopped',
  },
  { long: 'stop-signal', type: 'string', help: "Signal to stop the container (default the image's, else SIGTERM)" },
  { long: 'stop-timeout', type: 'string', help: 'Timeout (in seconds) to stop a container (default 10)', value: 'int' },
  { long: 'log-driver', type: 'string', help: 'Logging driver: k8s-file (default; json-file is the same) or none' },
  { long: 'log-opt', type: 'list', help: 'Log driver options: max-size=SIZE', value: 'list' },
  { long: 'health-cmd', type: 'string', help: 'Command to run to check health' },
  {
    long: 'health-interval',
    type: 'string',
    help: 'Time between running the check (ms|s|m|h) (default 30s)',
    value: 'duration',
  },
  {
    long: 'health-timeout',
    type: 'string',
    help: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)',
    value: 'duration',
  },
  { long: 'health-retries', type: 'string', help: 'Consecutive failures needed to report unhealthy', value: 'int' },
  {
    long: 'health-start-period',
    type: 'string',
    help: 'Start period for the container to initialize before failures count (ms|s|m|h) (default 0s)',
    value: 'duration',
  },
  { long: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { long: 'cap-add', type: 'list', help: 'Add Linux capabilities (NAME, CAP_NAME or ALL)', value: 'list' },
  { long: 'cap-drop', type: 'list', help: 'Drop Linux capabilities (NAME, CAP_NAME or ALL)', value: 'list' },
  {
    long: 'privileged',
    type: 'bool',
    help: 'Give extended privileges: every capability den holds, no seccomp, no masked paths, the host devices you can open',
  },
  {
    long: 'security-opt',
    type: 'list',
    help: 'Security options: no-new-privileges[=true|false], seccomp=PROFILE.json|unconfined, label=disable, apparmor=PROFILE',
    value: 'list',
  },
  {
    long: 'group-add',
    type: 'list',
    help: 'Add additional groups to join (a group of the image, a gid, or keep-groups: keep yours, rootless)',
    value: 'list',
  },
  ...limitFlags,
  ...networkFlags,
  ...mountFlags,
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
  flags: [
    { long: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
    { long: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    ...createFlags,
  ],
};

/**
 * The container's spec from the flags. Everything that is the caller's is resolved here, not in
 * the engine: env files are read, and `-e NAME` takes its value from den's own environment.
 */
export function createSpec(p: Parsed, autoRemove: boolean): CreateSpec {
  const [image = '', ...command] = p.args;
  const entrypoint = str(p, 'entrypoint');
  return {
    image,
    command,
    ...(entrypoint !== undefined ? { entrypoint: entrypoint === '' ? [] : [entrypoint] } : {}),
    env: envFromFlags(p),
    workdir: str(p, 'workdir'),
    user: str(p, 'user'),
    name: str(p, 'name'),
    hostname: str(p, 'hostname'),
    readOnly: bool(p, 'read-only'),
    ...mountsFromFlags(p),
    network: parseNetwork(str(p, 'network') ?? str(p, 'net')),
    networkSettings: networkSettingsFromFlags(p),
    runtime: str(p, 'runtime'),
    userns: parseUserns(str(p, 'userns'), list(p, 'uidmap'), list(p, 'gidmap')),
    tty: bool(p, 'tty'),
    interactive: bool(p, 'interactive'),
    autoRemove,
    labels: parseLabels(list(p, 'label')),
    restartPolicy: parseRestartPolicy(str(p, 'restart')),
    ...optional('stopSignal', str(p, 'stop-signal'), (v) => parseSignal(v, 'stop signal')),
    ...optional('stopTimeout', str(p, 'stop-timeout'), (v) => wholeNumber(v, '--stop-timeout', true)),
    ...(str(p, 'log-driver') !== undefined || list(p, 'log-opt').length > 0
      ? { log: parseLogConfig(str(p, 'log-driver'), list(p, 'log-opt')) }
      : {}),
    health: {
      none: bool(p, 'no-healthcheck'),
      ...optional('cmd', str(p, 'health-cmd'), (v) => v),
      ...optional('interval', str(p, 'health-interval'), (v) => v),
      ...optional('timeout', str(p, 'health-timeout'), (v) => v),
      ...optional('startPeriod', str(p, 'health-start-period'), (v) => v),
      ...optional('retries', str(p, 'health-retries'), (v) => wholeNumber(v, '--health-retries', false)),
    },
    limits: limitsFromFlags(p),
    security: parseSecurity(
      {
        privileged: bool(p, 'privileged'),
        capAdd: list(p, 'cap-add'),
        capDrop: list(p, 'cap-drop'),
        securityOpt: list(p, 'security-opt'),
        groupAdd: list(p, 'group-add'),
      },
      (path) => readFileSync(path, 'utf8'),
    ),
  };
}

/**
 * --env-file's entries, then -e's, as the engine takes them: the files read, and `-e NAME` given
 * its value from den's own environment (run, create, exec).
 */
export function envFromFlags(p: Parsed): string[] {
  const fromCaller = (name: string) => process.env[name];
  const envFileLines = list(p, 'env-file').flatMap((file) => envFileEntries(readEnvFile(file)));
  return resolveEnv([...envFileLines, ...list(p, 'env')], fromCaller);
}

/** `{ key: parse(value) }` when the flag was given, else nothing. */
function optional<K extends string, T>(key: K, value: string | undefined, parse: (v: string) => T) {
  return value === undefined ? {} : ({ [key]: parse(value) } as { [k in K]: T });
}

function wholeNumber(text: string, flag: string, allowMinusOne: boolean): number {
  if (/^[0-9]+$/.test(text) || (allowMinusOne && text === '-1')) return Number(text);
  throw new DenError(
    'InvalidArgument',
    'DEN0701',
    `invalid argument "${text}" for "${flag}" flag: not a whole number`,
    {
      reason: 'usage' satisfies UsageFailure,
    },
  );
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
  planLimits(ctx, spec.limits); // refused before anything is pulled
  spec.image = await ensureImage(p, ctx);
  const container = await createContainer(ctx, spec, shiftProgress());
  trace('container created');
  if (bool(p, 'detach')) return runDetached(ctx, container.id, spec.autoRemove);
  return runAttached(ctx, container, attachedIO());
}

/** den's own terminal and stdio, for what den stays attached to (`run`, `exec`, `attach`, `start -a`). */
export function attachedIO(): AttachIO {
  const stdout = process.stdout;
  return {
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
  };
}

/** `run -d`: the container starts in the background and its id is printed, as docker does. */
async function runDetached(ctx: EngineContext, id: string, autoRemove: boolean): Promise<number> {
  try {
    await startContainer(ctx, id);
  } catch (e) {
    // docker leaves a container that failed to start, unless it was to be removed anyway.
    if (autoRemove) await removeContainer(ctx, id, true).catch(() => {});
    throw e;
  }
  process.stdout.write(`${id}\n`);
  return 0;
}
