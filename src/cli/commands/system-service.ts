import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { invalidArgument } from '../../common/errors.js';
import type { EngineContext } from '../../engine/index.js';
import { defaultSocketPath, parseServiceUri, startService } from '../../api/index.js';
import { DEN_VERSION } from '../version.js';

export const spec: CommandSpec = {
  path: 'system service',
  usage: 'system service [OPTIONS] [URI]',
  summary: 'Serve the Docker Engine API on a unix socket until idle',
  maxArgs: 1,
  failureStatus: 125,
  flags: [
    {
      long: 'time',
      short: 't',
      type: 'string',
      value: 'int',
      help: 'Seconds without a request or a live stream before the service exits (default 5; 0: never)',
    },
  ],
};

/**
 * `den system service [--time S] [unix:///PATH]`: the Docker Engine API for DOCKER_HOST, in the
 * foreground, until idle; SIGINT and SIGTERM stop it. Started by a systemd socket unit, it serves
 * the socket systemd passes (docs/api.md).
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const timeText = str(p, 'time') ?? '5';
  if (!/^[0-9]+$/.test(timeText)) {
    throw invalidArgument('DEN1409', `invalid --time "${timeText}": not a whole number of seconds`, {
      hint: 'give seconds, 0 for never',
    });
  }
  const socket = p.args[0] !== undefined ? parseServiceUri(p.args[0]) : defaultSocketPath(ctx.paths);
  // systemd's socket activation hands the listening socket over as descriptor 3 (sd_listen_fds).
  const activated = process.env.LISTEN_PID === String(process.pid) && process.env.LISTEN_FDS === '1';
  const service = await startService({
    ctx,
    socket,
    ...(activated ? { listenFd: 3 } : {}),
    idleSeconds: Number(timeText),
    serverVersion: DEN_VERSION,
    onServerError: (method, path, e) =>
      process.stderr.write(`den system service: ${method} ${path}: ${(e as Error).stack ?? e}\n`),
  });
  const stop = () => service.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await service.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
