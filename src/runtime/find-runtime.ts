import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { findExecutable } from '../common/exec.js';
import { CrunRuntime } from './crun-runtime.js';
import { runtimeStateRoot, type OciRuntime, type RuntimeKind } from './oci-runtime.js';
import { RuncRuntime } from './runc-runtime.js';

export const DEFAULT_RUNTIME = 'crun';

/**
 * The OCI runtime by name (crun, runc) or path, found in `searchPath` like a shell would, and
 * known by what it says it is (`--version`), so a runc installed as /opt/bin/oci is still runc.
 * What a binary is is remembered in the runtime directory, keyed by its path, inode, size and
 * modification time: asking costs an exec (milliseconds on every container start), and a binary
 * that changes is asked again.
 */
export function findRuntime(name: string, searchPath: string, runtimeDir: string): OciRuntime {
  const binary = findExecutable(name, searchPath);
  if (!binary) {
    throw new DenError('FailedPrecondition', 'DEN0640', `OCI runtime "${name}" not found in PATH`, {
      hint:
        name === 'crun' || name === 'runc'
          ? `install it (apt-get install ${name}) or run scripts/setup-host.sh`
          : 'give the name or path of crun or runc with --runtime',
    });
  }
  const { kind, version } = identify(binary, runtimeDir);
  const stateRoot = runtimeStateRoot(runtimeDir, kind);
  return kind === 'runc' ? new RuncRuntime(binary, stateRoot, version) : new CrunRuntime(binary, stateRoot, version);
}

/** What a binary said it is: its kind, and the first line of its --version ("crun version 1.8.1"). */
interface Identity {
  kind: RuntimeKind;
  version: string;
}

interface KnownBinary extends Identity {
  key: string;
}

function identify(binary: string, runtimeDir: string): Identity {
  const st = statSync(binary);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const cacheFile = join(runtimeDir, 'runtimes.json');
  let known: Record<string, KnownBinary> = {};
  try {
    // Trusted only when it is ours and no one else can write it (the runtime directory may be in /tmp).
    const own = statSync(cacheFile);
    if (own.uid === process.getuid?.() && (own.mode & 0o022) === 0) {
      known = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, KnownBinary>;
    }
  } catch {
    // none yet, or unreadable: ask the binary
  }
  const hit = known[binary];
  // A cache written before it held the version is asked again.
  if (hit && hit.key === key && typeof hit.version === 'string') return { kind: hit.kind, version: hit.version };
  const identity = ask(binary);
  try {
    mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ ...known, [binary]: { key, ...identity } }), { mode: 0o600 });
    renameSync(tmp, cacheFile); // a reader sees the old cache or the new one, never half of one
  } catch {
    // only a cache: the next command asks again
  }
  return identity;
}

/** crun prints "crun version 1.8.1", runc "runc version 1.1.5". */
function ask(binary: string): Identity {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const first = (r.stdout ?? '').split('\n')[0] ?? '';
  const m = /^(crun|runc) version/.exec(first);
  if (!m) {
    throw new DenError('FailedPrecondition', 'DEN0641', `${binary} is not an OCI runtime den knows (crun or runc)`, {
      hint: `its --version printed "${first.slice(0, 80)}"; give --runtime crun or runc`,
    });
  }
  return { kind: m[1] as RuntimeKind, version: first.trim() };
}
