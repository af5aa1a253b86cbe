import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { libcFunctions } from '../common/libc.js';
import { ConsoleSocket } from './console-socket.js';

/**
 * What a runtime does with --console-socket: connects, sends a descriptor (SCM_RIGHTS) with one
 * byte, and goes away. Here in-process, so that the test decides when "the runtime exited".
 */
function sendDescriptor(path: string, fd: number): void {
  const { func, address } = libcFunctions();
  const socket = func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
  const connect = func('int connect(int, const uint8_t *, uint32_t)') as (fd: number, a: Buffer, l: number) => number;
  const sendmsg = func('intptr_t sendmsg(int, const uint8_t *, int)') as (fd: number, m: Buffer, f: number) => number;
  const s = socket(1, 1, 0);
  const addr = Buffer.alloc(2 + Buffer.byteLength(path) + 1);
  addr.writeUInt16LE(1, 0);
  addr.write(path, 2);
  assert.equal(connect(s, addr, addr.length), 0);
  const data = Buffer.from('x');
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(1n, 8);
  const control = Buffer.alloc(24); // cmsghdr (16) + one int, aligned
  control.writeBigUInt64LE(20n, 0);
  control.writeInt32LE(1, 8); // SOL_SOCKET
  control.writeInt32LE(1, 12); // SCM_RIGHTS
  control.writeInt32LE(fd, 16);
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(address(control), 32);
  msg.writeBigUInt64LE(BigInt(control.length), 40);
  assert.equal(Number(sendmsg(s, msg, 0)), 1);
  closeSync(s);
}

function withSocket(run: (socket: ConsoleSocket, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'den-console-'));
  const path = join(dir, 'sock');
  const socket = ConsoleSocket.listen(path);
  return run(socket, path).finally(() => {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('a terminal sent just before the runtime exited is still received', async () => {
  const file = openSync('/dev/null', 'r');
  try {
    for (let i = 0; i < 20; i++) {
      await withSocket(async (socket, path) => {
        // Half the time the receive waits already, half the time it starts after the exit.
        const early = i % 2 === 0 ? socket.receive() : undefined;
        sendDescriptor(path, file);
        socket.stopWaiting(); // the runtime exited
        const fd = await (early ?? socket.receive());
        assert.notEqual(fd, undefined, `round ${i}`);
        assert.equal(fstatSync(fd!).rdev, fstatSync(file).rdev);
        closeSync(fd!);
      });
    }
  } finally {
    closeSync(file);
  }
});

test('a runtime that exited without connecting ends the wait, and the socket is removed', async () => {
  await withSocket(async (socket, path) => {
    const pending = socket.receive();
    socket.stopWaiting();
    assert.equal(await pending, undefined);
    socket.close();
    assert.throws(() => fstatSync(openSync(path, 'r')));
  });
});
