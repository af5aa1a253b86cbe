/**
 * docker's multiplexed stream (logs and attach of a container without a terminal): each chunk
 * behind an 8-byte header, the stream's number (0 stdin, 1 stdout, 2 stderr), three zero bytes,
 * and the chunk's length as a big-endian uint32. With a terminal the bytes go as they are.
 */
export type StreamNumber = 0 | 1 | 2;

export function frame(stream: StreamNumber, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
