/** Sizes as docker prints them: decimal units, three significant digits (`31.4MB`). */
export const humanSize = (bytes: number): string => scaledSize(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB'], 3);

/** `bytes` in the largest of `units` (each `step` times the last) that keeps it at least 1; bytes as they are. */
export function scaledSize(bytes: number, step: number, units: readonly string[], digits: number): string {
  let v = bytes;
  let u = 0;
  while (v >= step && u < units.length - 1) {
    v /= step;
    u++;
  }
  return `${u === 0 ? v : Number(v.toPrecision(digits))}${units[u]}`;
}
