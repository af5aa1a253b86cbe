/**
 * Every way talking to a registry can fail, one stable code each (DEN09xx, docs/errors.md).
 * Messages name the registry and the object the way docker does, and never carry a secret: any text
 * that came from a server or a URL goes through `redact` first.
 */
import {
  DenError,
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
  unavailable,
} from '../common/errors.js';
import { redact } from './redact.js';

/**
 * The `reason` of the errors that say a connection never got as far as HTTP with the registry:
 * on an insecure registry, https then falls back to plain http.
 */
export type ConnectFailure = 'unreachable' | 'tls-failure' | 'plain-http';

export const unreachable = (registry: string, why: string, cause?: unknown): DenError =>
  unavailable('DEN0901', `registry ${registry}: cannot connect: ${redact(why)}`, {
    hint: 'check the name, your network and proxy, and that the registry is up',
    cause,
    reason: 'unreachable' satisfies ConnectFailure,
  });

/** A registry that took the connection and never answered, the whole timeout, on every try. */
export const silentRegistry = (registry: string, seconds: number, cause?: unknown): DenError =>
  unavailable(
    'DEN0901',
    `registry ${registry}: cannot connect: it accepted the connection but sent no answer in ${seconds} s`,
    {
      hint: `check that ${registry} is a registry and is up (curl -v https://${registry}/v2/); a proxy or firewall that holds connections does this too`,
      cause,
      reason: 'unreachable' satisfies ConnectFailure,
    },
  );

export const tlsFailure = (registry: string, why: string, cause?: unknown): DenError =>
  unavailable('DEN0902', `registry ${registry}: TLS failure: ${redact(why)}`, {
    hint: `trust its CA (a ca.crt in /etc/containers/certs.d/${registry}/ or --cert-dir), or, on a network you trust, use --tls-verify=false`,
    cause,
    reason: 'tls-failure' satisfies ConnectFailure,
  });

export const plainHttpRefused = (registry: string): DenError =>
  failedPrecondition('DEN0903', `registry ${registry}: it answers in plain HTTP, and it is not marked insecure`, {
    hint: `add {"prefix": "${registry}", "insecure": true} to the registries of ~/.config/den/registries.json if you trust the network`,
    reason: 'plain-http' satisfies ConnectFailure,
  });

/** 401. On a manifest pull, docker's words: registries say 401 for a repository that does not exist, too. */
export const unauthorized = (registry: string, detail: string, pullRepository?: string): DenError =>
  permissionDenied(
    'DEN0904',
    pullRepository !== undefined
      ? `pull access denied for ${pullRepository}, repository does not exist or may require 'den login': ${redact(detail)}`
      : `registry ${registry}: ${redact(detail)}`,
    { hint: `den login ${registry}` },
  );

export const denied = (registry: string, detail: string): DenError =>
  permissionDenied('DEN0905', `registry ${registry}: ${redact(detail)}`, {
    hint: `check that your account may do this, or den login ${registry} with another one`,
  });

export const manifestUnknown = (reference: string): DenError =>
  notFound('DEN0906', `manifest for ${reference} not found: manifest unknown`);

export const repositoryUnknown = (repository: string): DenError =>
  notFound(
    'DEN0907',
    `pull access denied for ${repository}, repository does not exist or may require 'den login': name unknown`,
  );

export const blobUnknown = (repository: string, digest: string): DenError =>
  notFound('DEN0908', `blob ${digest}: not found in ${repository}: blob unknown`);

export const digestMismatch = (what: string, expected: string, actual: string): DenError =>
  invalidArgument('DEN0909', `${what}: content hashes to ${actual}, expected ${expected}`, {
    hint: 'the registry or something between it and you served corrupt content: try again, or tell its operator',
  });

export const sizeMismatch = (what: string, expected: number, actual: string): DenError =>
  invalidArgument('DEN0910', `${what}: size ${actual}, expected ${expected}`);

export const tooLarge = (what: string, limit: number): DenError =>
  invalidArgument('DEN0911', `${what}: response exceeds the limit of ${limit} bytes`);

export const unsupportedManifestType = (reference: string, mediaType: string): DenError =>
  invalidArgument('DEN0912', `${reference}: unsupported manifest media type "${redact(mediaType.slice(0, 200))}"`, {
    hint: 'den reads OCI and Docker schema 2 images; schema 1 images must be converted by their publisher',
  });

export const ambiguousShortName = (name: string, candidates: readonly string[]): DenError =>
  new DenError('Conflict', 'DEN0916', `short name "${name}" is ambiguous: it resolves to ${candidates.join(', ')}`, {
    hint: `use a fully qualified name, e.g. ${candidates[0]}`,
  });

export const malformedChallenge = (registry: string, header: string, why: string): DenError =>
  invalidArgument(
    'DEN0917',
    `registry ${registry}: malformed WWW-Authenticate header "${redact(header.slice(0, 300))}": ${why}`,
  );

export const tokenFailure = (registry: string, why: string, cause?: unknown): DenError =>
  unavailable('DEN0918', `registry ${registry}: cannot get a token: ${redact(why)}`, { cause });

export const badCredentialsFile = (path: string, why: string): DenError =>
  invalidArgument('DEN0919', `credentials file ${path}: ${redact(why)}`, {
    hint: 'fix or remove the file, then den login again',
  });

export const credentialsNotWritten = (path: string, why: string, cause?: unknown): DenError =>
  failedPrecondition('DEN0920', `credentials file ${path}: cannot write: ${why}`, { cause });

export const badCreds = (why: string): DenError =>
  invalidArgument('DEN0921', `invalid credentials: ${why}`, { hint: 'use --creds USERNAME[:PASSWORD]' });

export const badRegistriesConfig = (path: string, why: string): DenError =>
  invalidArgument('DEN0922', `registries configuration ${path}: ${why}`);

export const serverError = (registry: string, status: number, detail: string): DenError =>
  unavailable(
    'DEN0923',
    `registry ${registry}: ${status === 429 ? 'too many requests' : 'server error'} (HTTP ${status})${detail ? `: ${redact(detail)}` : ''}`,
    {
      hint: 'try again later',
    },
  );

export const protocolError = (registry: string, why: string): DenError =>
  unavailable('DEN0924', `registry ${registry}: unexpected response: ${redact(why)}`);

export const badResume = (why: string): DenError => invalidArgument('DEN0925', `cannot resume the download: ${why}`);

/** Which credential helper, for which registry, and where it was configured: every helper error names all three. */
export interface HelperContext {
  /** docker-credential-NAME */
  program: string;
  /** The registry as den names it (docker.io, localhost:5000). */
  registry: string;
  /** The file that configured the helper, and the field: `credsStore`, or `credHelpers` with its key. */
  path: string;
  field: 'credsStore' | { credHelpers: string };
}

/** How to stop using the helper, for the hints: the field to remove. */
function helperOff(h: HelperContext): string {
  const where = typeof h.field === 'string' ? `"credsStore" from` : `"${h.field.credHelpers}" from "credHelpers" in`;
  return `remove ${where} ${h.path} to keep credentials in the file instead`;
}

export const helperMissing = (h: HelperContext, why: string, cause?: unknown): DenError =>
  failedPrecondition('DEN0928', `credential helper ${h.program} (registry ${h.registry}): ${why}`, {
    hint: `install ${h.program} in a directory of PATH, or ${helperOff(h)}`,
    cause,
  });

export const helperFailed = (h: HelperContext, verb: string, status: string, output: string): DenError =>
  unavailable(
    'DEN0929',
    `credential helper ${h.program} (registry ${h.registry}): ${verb} failed (${status})${output ? `: ${redact(output.slice(0, 300))}` : ''}`,
    { hint: `fix the helper (its store may be locked or not set up), or ${helperOff(h)}` },
  );

export const helperGarbage = (h: HelperContext, verb: string, why: string): DenError =>
  invalidArgument(
    'DEN0930',
    `credential helper ${h.program} (registry ${h.registry}): ${verb} answered ${why}, not the JSON of the credential helper protocol`,
    { hint: `check that ${h.program} is a docker credential helper, or ${helperOff(h)}` },
  );

export const helperTimeout = (h: HelperContext, verb: string, timeoutMs: number): DenError =>
  unavailable(
    'DEN0931',
    `credential helper ${h.program} (registry ${h.registry}): ${verb} did not finish within ${timeoutMs / 1000} s; it was killed`,
    {
      hint: 'it may be waiting for something (a locked keyring, a passphrase prompt): unlock its store and try again',
    },
  );

export const helperIdentityToken = (h: HelperContext): DenError =>
  failedPrecondition(
    'DEN0932',
    `registry ${h.registry}: credential helper ${h.program} holds an identity token, which den does not support`,
    {
      hint: `den login ${h.registry} with a username and a password or access token, or give --creds USERNAME:PASSWORD`,
    },
  );

export const helperNamespaced = (h: HelperContext, name: string): DenError =>
  invalidArgument(
    'DEN0933',
    `registry ${name}: credential helper ${h.program} keeps one login per registry, not per namespace`,
    { hint: `den login ${h.registry}, or --authfile FILE to keep this login in a file` },
  );
