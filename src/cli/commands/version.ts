import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { findRuntime, type EngineContext } from '../../engine/index.js';
import { isDenError } from '../../common/errors.js';
import { release } from 'node:os';
import { renderTemplate } from '../output.js';
import { API_VERSION, formatFlag, goArch, MIN_API_VERSION, runtimeVersionNumber } from '../system-facts.js';
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
 * the Server, which tools read `.Server.Version` and `.Server.ApiVersion` of; its components are
 * den's engine and the OCI runtime. Go's fields stay, empty: den is not written in Go.
 */
function versionObject(ctx: EngineContext) {
  const os = 'linux';
  const arch = goArch();
  const components: { Name: string; Version: string; Details: Record<string, string> }[] = [
    {
      Name: 'Engine',
      Version: DEN_VERSION,
      Details: {
        ApiVersion: API_VERSION,
        Arch: arch,
        BuildTime: '',
        Experimental: 'false',
        GitCommit: '',
        GoVersion: '',
        KernelVersion: release(),
        MinAPIVersion: MIN_API_VERSION,
        Os: os,
      },
    },
  ];
  try {
    const runtime = findRuntime(ctx);
    components.push({
      Name: runtime.kind,
      Version: runtimeVersionNumber(runtime.version),
      Details: { Path: runtime.binary },
    });
  } catch (e) {
    if (!isDenError(e)) throw e; // no runtime: version still answers, as docker's does without one
  }
  return {
    Client: {
      Version: DEN_VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      GitCommit: '',
      GoVersion: '',
      NodeVersion: process.version,
      Os: os,
      Arch: arch,
      BuildTime: '',
      Context: 'default',
    },
    Server: {
      Platform: { Name: 'den' },
      Components: components,
      Version: DEN_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: '',
      Os: os,
      Arch: arch,
      KernelVersion: release(),
      BuildTime: '',
    },
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
