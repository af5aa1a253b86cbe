import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { dockerInfo, systemInfo, type EngineContext } from '../../engine/index.js';
import { renderTemplate } from '../output.js';
import { binarySize, formatFlag, runtimeVersionNumber } from '../system-facts.js';
import { DEN_VERSION } from '../version.js';

export const spec: CommandSpec = {
  path: 'info',
  usage: 'info [OPTIONS]',
  summary: 'Display system-wide information',
  maxArgs: 0,
  flags: [formatFlag],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const info = dockerInfo(systemInfo(ctx), DEN_VERSION);
  const format = str(p, 'format');
  if (format !== undefined && format !== '') {
    process.stdout.write(format === 'json' ? `${JSON.stringify(info)}\n` : `${renderTemplate(format, info)}\n`);
    return 0;
  }
  const extents = (m: { ContainerID: number; HostID: number; Size: number }[]) =>
    m.map((e) => `${e.ContainerID} ${e.HostID} ${e.Size}`).join(', ');
  const runtime = info.Host.OCIRuntime;
  const lines = [
    'Client:',
    ` Version:    ${DEN_VERSION}`,
    ' Context:    default',
    '',
    'Server:',
    ` Containers: ${info.Containers}`,
    `  Running: ${info.ContainersRunning}`,
    `  Paused: ${info.ContainersPaused}`,
    `  Stopped: ${info.ContainersStopped}`,
    ` Images: ${info.Images}`,
    ` Server Version: ${info.ServerVersion}`,
    ` Storage Driver: ${info.Driver}`,
    ` Cgroup Driver: ${info.CgroupDriver}`,
    ` Cgroup Version: ${info.CgroupVersion}`,
    ` Runtimes: ${Object.keys(info.Runtimes).join(' ')}`,
    ` Default Runtime: ${info.DefaultRuntime}`,
    ` OCI Runtime: ${runtime.Path ? `${runtime.Name} ${runtimeVersionNumber(runtime.Version)} (${runtime.Path})` : 'not found'}`,
    ' Security Options:',
    ...info.SecurityOptions.flatMap((o) => {
      const [name, ...rest] = o.replace(/^name=/, '').split(',');
      return [`  ${name}`, ...rest.map((kv) => `   ${kv.replace(/^profile=/, 'Profile: ')}`)];
    }),
    ` Default Userns: ${info.Host.Security.DefaultUserns}`,
    ...(info.Host.Security.Rootless
      ? [
          ' ID Mappings (rootless session, container host size):',
          `  uid: ${extents(info.Host.IDMappings.UIDMap)}`,
          `  gid: ${extents(info.Host.IDMappings.GIDMap)}`,
        ]
      : []),
    ` Kernel Version: ${info.KernelVersion}`,
    ` Operating System: ${info.OperatingSystem}`,
    ` OSType: ${info.OSType}`,
    ` Architecture: ${info.Architecture}`,
    ` CPUs: ${info.NCPU}`,
    ` Total Memory: ${binarySize(info.MemTotal)}`,
    ` Name: ${info.Name}`,
    ` Den Root Dir: ${info.DockerRootDir}`,
    ` Den Run Dir: ${info.Store.RunRoot}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // docker prints its warnings after the information, on stderr.
  for (const w of info.Warnings) process.stderr.write(`WARNING: ${w}\n`);
  return 0;
}
