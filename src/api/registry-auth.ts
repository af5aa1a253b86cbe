/**
 * docker's X-Registry-Auth header: base64url of a JSON AuthConfig ({username, password,
 * serveraddress} or {identitytoken}), sent with pull and push. It becomes the engine's `creds`;
 * without it the engine reads den's and docker's auth files as `den pull` does.
 */
import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../common/errors.js';
import type { RegistryAccess } from '../engine/index.js';

export function registryAccess(req: IncomingMessage): RegistryAccess {
  const header = req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header === '') return {};
  let auth: { username?: unknown; password?: unknown };
  try {
    auth = JSON.parse(
      Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'),
    ) as typeof auth;
  } catch {
    throw invalidArgument('DEN1408', 'X-Registry-Auth: not base64 of a JSON object', {
      hint: "send docker's AuthConfig, base64url-encoded",
    });
  }
  if (typeof auth !== 'object' || auth === null) return {};
  const user = typeof auth.username === 'string' ? auth.username : '';
  const password = typeof auth.password === 'string' ? auth.password : '';
  // docker's CLI sends {} (as "e30=") when it has no credentials for the registry.
  return user ? { creds: `${user}:${password}` } : {};
}
