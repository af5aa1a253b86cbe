import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { dockerServerVersion, type EngineContext } from '../../engine/index.js';
import { renderTemplate } from '../output.js';
import { API_VERSION, formatFlag, goArch } from '../system-facts.js';
import { DEN_VERSION } from '../version.js';

export const spec: CommandSpec = {
  path: 'version',
  usage: 'version [OPTIONS]',
  summary: 'Show the den version information',
  maxArgs: 0,
  flags: [formatFlag],
};

/**
 * docker's `version` object. den has no daemon: like rootless podman, the Client is den, and so is
 * the Server (the engine's dockerServerVersion, which the API's /version answers too).
 */
function versionObject(ctx: EngineContext) {
  return {
    Client: {
      Version: DEN_VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      GitCommit: '',
      GoVersion: '',
      NodeVersion: process.version,
      Os: 'linux',
      Arch: goArch(),
      BuildTime: '',
      Context: 'default',
    },
    Server: dockerServerVersion(ctx, DEN_VERSION),
  };
}

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const v = versionObject(ctx);
  const format = str(p, 'format');
  if (format !== undefined && format !== '') {
    process.stdout.write(format === 'json' ? `${JSON.stringify(v)}\n` : `${renderTemplate(format, v)}\n`);
    return 0;
  }
  const row = (indent: string, label: string, value: string) =>
    `${indent}${`${label}:`.padEnd(18 - indent.length)} ${value}`;
  const lines = [
    'Client:',
    row(' ', 'Version', v.Client.Version),
    row(' ', 'API version', v.Client.ApiVersion),
    row(' ', 'Node version', v.Client.NodeVersion),
    row(' ', 'OS/Arch', `${v.Client.Os}/${v.Client.Arch}`),
    row(' ', 'Context', v.Client.Context),
    '',
    `Server: ${v.Server.Platform.Name}`,
  ];
  for (const c of v.Server.Components) {
    lines.push(` ${c.Name}:`, row('  ', 'Version', c.Version));
    if (c.Name === 'Engine') {
      lines.push(
        row('  ', 'API version', `${v.Server.ApiVersion} (minimum version ${v.Server.MinAPIVersion})`),
        row('  ', 'OS/Arch', `${v.Server.Os}/${v.Server.Arch}`),
        row('  ', 'Kernel', v.Server.KernelVersion),
      );
    } else if (c.Details.Path) {
      lines.push(row('  ', 'Path', c.Details.Path));
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
