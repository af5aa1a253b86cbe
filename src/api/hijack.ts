/**
 * docker's hijacked connection (attach, exec start): the client asks `Upgrade: tcp`, the server
 * answers `101 UPGRADED` and the connection becomes the process's stdio, raw with a terminal and
 * multiplexed without (stream-framing.ts). A client that does not ask to upgrade gets the output
 * as a 200 response body, as dockerd streams it.
 */
import { Writable, type Readable } from 'node:stream';
import type { ApiCall } from './router.js';
import { frame, type StreamNumber } from './stream-framing.js';

export interface Hijacked {
  /** What the client sends: the process's stdin. */
  input: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Ends the connection once the process's output is all written. */
  end(): void;
  /** Calls back when the client went away. */
  onClose(listener: () => void): void;
}

export function hijack(call: ApiCall, tty: boolean): Hijacked {
  const contentType = tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  const { upgrade, res, req } = call;
  let out: NodeJS.WritableStream & { write(b: Buffer): boolean };
  let end: () => void;
  let input: Readable;
  let onClose: (listener: () => void) => void;
  if (upgrade) {
    const socket = upgrade.socket;
    const lines = [
      'HTTP/1.1 101 UPGRADED',
      `Content-Type: ${contentType}`,
      'Connection: Upgrade',
      'Upgrade: tcp',
      ...Object.entries(call.headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upgrade.head.length > 0) socket.unshift(upgrade.head);
    out = socket;
    input = socket;
    // Ended once the output is flushed, whatever the client's side does: a client that sent
    // nothing more would otherwise hold the connection (and the service) open.
    end = () => socket.end(() => socket.destroy());
    onClose = (listener) => socket.once('close', listener);
  } else {
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    out = res;
    input = req;
    end = () => res.end();
    onClose = (listener) => req.socket.once('close', listener);
  }
  const stream = (n: StreamNumber) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const data = tty ? chunk : frame(n, chunk);
        if (out.write(data)) callback();
        else out.once('drain', () => callback());
      },
    });
  return { input, stdout: stream(1), stderr: stream(2), end, onClose };
}
