/** One line of /proc/PID/mountinfo, the fields den's probes read. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** /proc/PID/mountinfo: fields 5 (mount point) and, after the ' - ' separator, type, source, options. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const mountPoint = before[4];
    if (mountPoint === undefined || after.length < 2) continue;
    entries.push({
      mountPoint: unescapeOctal(mountPoint),
      fsType: after[0]!,
      source: unescapeOctal(after[1]!),
      superOptions: after[2] ?? '',
    });
  }
  return entries;
}

/** The kernel writes space, tab, newline and backslash in mount points as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount that holds `path`: the longest mount point above it, the last one mounted there. */
export function mountOf(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (inside && (best === undefined || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
