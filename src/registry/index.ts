export {
  containersAuthPaths,
  credentialFiles,
  dockerConfigPath,
  lookupCredentials,
  normalizeAuthKey,
  parseCreds,
  removeCredentials,
  storeCredentials,
  type CredentialFileOptions,
  type Credentials,
  type FoundCredentials,
} from './credentials.js';
export { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type RequestBody, type RetryPolicy } from './http-transport.js';
export { login, logout, normalizeRegistryName, type LoginOptions } from './login.js';
export { redact, redactUrl, registerSecret } from './redact.js';
export {
  apiHost,
  DEFAULT_REGISTRIES_CONFIG,
  isLoopbackRegistry,
  isShortName,
  loadRegistriesConfig,
  parseRegistriesConfig,
  pullEndpoints,
  pushEndpoint,
  registriesConfigPath,
  registryConfigFor,
  registryEndpoint,
  shortNameCandidates,
  type Endpoint,
  type MirrorConfig,
  type RegistriesConfig,
  type RegistryConfig,
  type ShortNameMode,
} from './registries-config.js';
export {
  Registries,
  resolvePlatformManifest,
  type ManifestSource,
  type PlatformManifest,
  type RegistriesOptions,
} from './registries.js';
export {
  RegistryClient,
  type FetchBlobOptions,
  type FetchedManifest,
  type PushBlobOptions,
  type PushBlobResult,
  type RegistryClientOptions,
  type Repository,
} from './registry-client.js';
export { verifyingStream, type VerifyOptions } from './verify-stream.js';
export { bearerChallenge, parseWwwAuthenticate, type BearerChallenge, type Challenge } from './www-authenticate.js';
