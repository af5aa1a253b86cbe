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
  network: { timeoutMs?: number; onWaiting?: (registry: string, waitedMs: number) => void } = {},
): Registries {
  return new Registries({
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

/** Runs `work` on every item, at most `limit` at a time, in order of the items; rejects with the first failure. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
