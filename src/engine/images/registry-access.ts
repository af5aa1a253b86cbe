import { throwIfAborted } from '../../common/abort.js';
import { login, logout, parseCreds, Registries } from '../../registry/index.js';

/** How a command reaches registries: the flags pull, push and run share. */
export interface RegistryAccess {
  /** `--tls-verify`: undefined follows the registries configuration (loopback registries may use http). */
  tlsVerify?: boolean;
  /** `--creds USER[:PASSWORD]`. */
  creds?: string;
  /** `--authfile`. */
  authFile?: string;
  /** `--cert-dir`. */
  certDir?: string;
}

export function openRegistries(
  access: RegistryAccess,
  network: {
    timeoutMs?: number;
    onWaiting?: (registry: string, waitedMs: number) => void;
    signal?: AbortSignal | undefined;
  } = {},
): Registries {
  return new Registries({
    ...(network.signal ? { signal: network.signal } : {}),
    ...(network.onWaiting ? { onWaiting: network.onWaiting } : {}),
    ...(network.timeoutMs !== undefined ? { timeoutMs: network.timeoutMs } : {}),
    ...(access.tlsVerify !== undefined ? { tlsVerify: access.tlsVerify } : {}),
    ...(access.creds !== undefined ? { credentials: parseCreds(access.creds) } : {}),
    ...(access.authFile !== undefined ? { authFile: access.authFile } : {}),
    ...(access.certDir !== undefined ? { certDir: access.certDir } : {}),
  });
}

/**
 * `den login`: checks the credentials against the registry, then stores them (docker's
 * config.json, or `authFile`). Returns the registry as stored and the file written.
 */
export async function registryLogin(
  registry: string,
  credentials: { username: string; password: string },
  access: Omit<RegistryAccess, 'creds'>,
): Promise<{ registry: string; path: string }> {
  return login(registry, credentials, {
    ...(access.tlsVerify !== undefined ? { tlsVerify: access.tlsVerify } : {}),
    ...(access.authFile !== undefined ? { authFile: access.authFile } : {}),
    ...(access.certDir !== undefined ? { certDir: access.certDir } : {}),
  });
}

/** `den logout`: forgets the registry in every credentials file den reads, or only `authFile`. */
export function registryLogout(registry: string, authFile?: string): { registry: string; paths: string[] } {
  return logout(registry, authFile !== undefined ? { authFile } : {});
}

/**
 * Runs `work` on every item, at most `limit` at a time, in order of the items; rejects with the
 * first failure. The first failure aborts `stop` (whose signal the work's requests listen to), so
 * the items under way fail fast; no new item starts once it is aborted, by a failure or by the
 * caller; and the promise settles only when the items under way have, so their own cleanup is over
 * before the caller's starts (a pull releases its lease once no layer of it is still being written).
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  stop: AbortController = new AbortController(),
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        throwIfAborted(stop.signal);
        await work(items[i]!, i);
      } catch (e) {
        if (failure === undefined) {
          failure = { error: e };
          stop.abort(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
