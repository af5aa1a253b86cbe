/**
 * `den login` and `den logout`: credentials are checked against the registry's `/v2/` (through its
 * token server when it has one) before anything is stored, and stored in docker's config.json (or
 * `--authfile`), mode 0600, or by the credential helper that file names for the registry
 * (`credHelpers`, `credsStore`), the file then keeping no secret. See credentials.ts for which
 * files and helpers are read.
 */
import { invalidArgument } from '../common/errors.js';
import {
  normalizeAuthKey,
  removeCredentials,
  storeCredentials,
  type CredentialFileOptions,
  type Credentials,
} from './credentials.js';
import { Registries, type RegistriesOptions } from './registries.js';

export type LoginOptions = Omit<RegistriesOptions, 'credentials'>;

const REGISTRY = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[a-f0-9:]+\])(?::[0-9]{1,5})?(?:\/[a-z0-9._-]+)*$/;

/** docker.io, localhost:5000, quay.io/org, from what a person types (https://index.docker.io/v1/ too). */
export function normalizeRegistryName(input: string): string {
  const name = normalizeAuthKey(input);
  if (name === '' || !REGISTRY.test(name)) {
    throw invalidArgument('DEN0410', `invalid registry name "${input}"`, {
      hint: 'for example docker.io or localhost:5000',
    });
  }
  return name;
}

/** Checks credentials against the registry, then stores them. Returns the registry and the file written. */
export async function login(
  registry: string,
  credentials: Credentials,
  options: LoginOptions = {},
): Promise<{ registry: string; path: string }> {
  const name = normalizeRegistryName(registry);
  const host = name.split('/')[0]!;
  const registries = new Registries({ ...options, credentials });
  try {
    await registries.registryClient(host).checkCredentials();
  } finally {
    registries.close();
  }
  const fileOptions: CredentialFileOptions = {
    ...(options.authFile ? { authFile: options.authFile } : {}),
    ...(options.env ? { env: options.env } : {}),
  };
  return { registry: name, path: storeCredentials(name, credentials, fileOptions) };
}

/**
 * Forgets a registry's credentials in every file den reads (or only `--authfile`) and in their
 * credential helpers. Returns the files and helpers changed; none means there was nothing to
 * forget, which the CLI reports as docker does.
 */
export function logout(registry: string, options: CredentialFileOptions = {}): { registry: string; paths: string[] } {
  const name = normalizeRegistryName(registry);
  return { registry: name, paths: removeCredentials(name, options) };
}
