import { DenError } from '../../common/errors.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { hostAddress, portKey, publishedPorts, type EngineContext, type PublishedPort } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'port',
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  minArgs: 1,
  maxArgs: 2,
  failureStatus: 1,
  flags: [],
};

/**
 * docker's `port`: every mapping as `80/tcp -> 0.0.0.0:8080`, or one container port's host
 * addresses alone. A port published on all addresses is listed for IPv4 and IPv6, as docker does.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const c = ctx.containers.resolve(p.args[0]!);
  const wanted = p.args[1];
  const key = wanted === undefined ? undefined : wanted.includes('/') ? wanted : `${wanted}/tcp`;
  const ports = publishedPorts(ctx, c).filter((m) => key === undefined || portKey(m) === key);
  if (key !== undefined && ports.length === 0) {
    throw new DenError('NotFound', 'DEN1216', `No public port '${key}' published for ${c.name}`, {
      hint: `see \`den port ${c.name}\` for what is published`,
    });
  }
  const lines = ports.flatMap((m) => addresses(m).map((a) => (key === undefined ? `${portKey(m)} -> ${a}` : a)));
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

function addresses(m: PublishedPort): string[] {
  if (m.hostIp) return [`${hostAddress(m.hostIp)}:${m.hostPort}`];
  return [`0.0.0.0:${m.hostPort}`, `[::]:${m.hostPort}`];
}
