import { createInterface } from 'node:readline';
import { invalidArgument } from '../../common/errors.js';
import { registryLogin, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { registryFlags, registryOptions } from './pull.js';

export const spec: CommandSpec = {
  path: 'login',
  usage: 'login [OPTIONS] [REGISTRY]',
  summary: 'Log in to a registry',
  maxArgs: 1,
  flags: [
    { long: 'username', short: 'u', type: 'string', help: 'Username' },
    { long: 'password', short: 'p', type: 'string', help: 'Password (prefer --password-stdin)' },
    { long: 'password-stdin', type: 'bool', help: 'Take the password from stdin' },
    ...registryFlags.filter((f) => f.long === 'tls-verify' || f.long === 'cert-dir'),
    {
      long: 'authfile',
      type: 'string',
      help: 'Where to store the credentials (default ~/.docker/config.json, or the credential helper it names)',
      value: 'path',
    },
  ],
};

/**
 * Docker's rules: the password from -p, from stdin with --password-stdin (the username then must
 * be given), or asked for on the terminal without echo. It is checked against the registry before
 * it is stored, and never printed.
 */
export async function handler(p: Parsed, _ctx: EngineContext): Promise<number> {
  const registry = p.args[0] ?? 'docker.io';
  let username = str(p, 'username');
  let password = str(p, 'password');
  if (bool(p, 'password-stdin')) {
    if (password !== undefined)
      throw invalidArgument('DEN0704', '--password and --password-stdin are mutually exclusive');
    if (username === undefined) throw invalidArgument('DEN0705', 'must provide --username with --password-stdin');
    password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
  } else if (password !== undefined) {
    process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }
  if (username === undefined) username = await ask('Username: ', false);
  if (password === undefined) password = await ask('Password: ', true);
  if (!username || !password) throw invalidArgument('DEN0706', 'a username and a password are required');
  await registryLogin(registry, { username, password }, registryOptions(p));
  process.stdout.write('Login Succeeded\n');
  return 0;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** Asks on the terminal; a hidden answer is not echoed. Without a terminal there is nobody to ask. */
async function ask(prompt: string, hidden: boolean): Promise<string> {
  if (!process.stdin.isTTY) {
    throw invalidArgument(
      'DEN0707',
      `cannot ask for the ${hidden ? 'password' : 'username'}: stdin is not a terminal`,
      {
        hint: 'give --username and --password-stdin',
      },
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) {
    // Echo nothing of what is typed: readline writes through _writeToOutput.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) process.stderr.write(prompt);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve));
  } finally {
    if (hidden) process.stderr.write('\n');
    rl.close();
  }
}
