import { registryLogout, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';

export const spec: CommandSpec = {
  path: 'logout',
  usage: 'logout [OPTIONS] [REGISTRY]',
  summary: 'Log out from a registry',
  maxArgs: 1,
  flags: [
    {
      long: 'authfile',
      type: 'string',
      help: 'Only this authentication file (and the credential helper it names)',
      value: 'path',
    },
  ],
};

export async function handler(p: Parsed, _ctx: EngineContext): Promise<number> {
  const { registry, paths } = await registryLogout(p.args[0] ?? 'docker.io', str(p, 'authfile'));
  process.stdout.write(
    paths.length > 0 ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`,
  );
  return 0;
}
