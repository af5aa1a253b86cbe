import { pullImage, type EngineContext, type PullOptions, type RegistryAccess } from '../../engine/index.js';
import type { CommandSpec, FlagSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { interruptible } from '../interrupt.js';
import { PullProgress } from '../pull-progress.js';

/** The flags of every command that talks to a registry (pull, push, run --pull, login). */
export const registryFlags: FlagSpec[] = [
  {
    long: 'tls-verify',
    type: 'bool',
    help: 'Require HTTPS and verify certificates (default: by registries.json; loopback may use http)',
  },
  { long: 'creds', type: 'string', help: 'Credentials USERNAME[:PASSWORD] for the registry', value: 'string' },
  {
    long: 'authfile',
    type: 'string',
    help: 'Path of the authentication file (default ~/.docker/config.json)',
    value: 'path',
  },
  { long: 'cert-dir', type: 'string', help: 'Directory of CA certificates (*.crt) to trust', value: 'path' },
];

export const spec: CommandSpec = {
  path: 'pull',
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    {
      long: 'platform',
      type: 'string',
      help: 'Pull for this platform os/arch[/variant] (default: this host)',
      value: 'string',
    },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
    ...registryFlags,
  ],
};

/** What the registry flags ask for, as the engine's pull and push options take it. */
export function registryOptions(p: Parsed): RegistryAccess {
  const tls = p.flags.get('tls-verify');
  const creds = str(p, 'creds');
  const authFile = str(p, 'authfile');
  const certDir = str(p, 'cert-dir');
  return {
    ...(typeof tls === 'boolean' ? { tlsVerify: tls } : {}),
    ...(creds !== undefined ? { creds } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
    ...(certDir !== undefined ? { certDir } : {}),
  };
}

/** PullOptions from the flags (registry flags and --platform). */
export function pullOptions(p: Parsed, reference: string): PullOptions {
  const platform = str(p, 'platform');
  return { reference, ...(platform !== undefined ? { platform } : {}), ...registryOptions(p) };
}

/**
 * Pulls with docker's report: per-layer lines (in place on a terminal), then the digest and the
 * status, written to `out` (stdout for `den pull`, stderr when `den run` pulls).
 */
export async function pullReporting(
  ctx: EngineContext,
  options: PullOptions,
  out: NodeJS.WriteStream,
  quiet: boolean,
): Promise<string> {
  const progress = quiet ? undefined : new PullProgress(out);
  let fetched = false;
  let digest = '';
  const image = await pullImage(ctx, {
    ...options,
    onProgress: (e) => {
      if (e.kind === 'layer' && e.status === 'pulling') fetched = true;
      if (e.kind === 'resolved') digest = e.digest;
      progress?.onEvent(e);
    },
  });
  const name = image.names[0] ?? image.id;
  if (progress) {
    progress.print(`Digest: ${digest || image.manifestDigest}`);
    progress.print(`Status: ${fetched ? 'Downloaded newer image' : 'Image is up to date'} for ${name}`);
  }
  return name;
}

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const name = await interruptible((signal) =>
    pullReporting(ctx, { ...pullOptions(p, p.args[0]!), signal }, process.stdout, bool(p, 'quiet')),
  );
  process.stdout.write(`${name}\n`);
  return 0;
}
