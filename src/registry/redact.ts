/**
 * Secret redaction for every message that leaves the registry module. Registries echo requests in
 * their errors, storage redirects carry signed URLs, and a token server may answer with the token
 * in a body we quote: so anything a server said, and every URL, goes through `redact` before it
 * reaches a DenError. Two layers: patterns that look like secrets (Authorization values, URL
 * passwords, token-ish query parameters and JSON fields, JWTs), and the exact secrets this process
 * has handled (passwords, tokens, base64 `auth` strings), registered by the code that handles them.
 */
const MASK = '***';

/** Secrets this process has handled; kept for its lifetime, as it is short (one command). */
const known = new Set<string>();

/** Below this length an exact-match mask would mangle ordinary text; the patterns still apply. */
const MIN_KNOWN_LENGTH = 4;

/** Remembers a secret so that `redact` masks it wherever it shows up later. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= MIN_KNOWN_LENGTH) known.add(secret);
}

const SECRET_WORDS = 'token|password|passwd|secret|signature|sig|credential|auth|key';

const PATTERNS: [RegExp, string][] = [
  // Authorization: Bearer abc / Basic abc, in headers or prose.
  [/\b((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic)\s+)?[^\s,;"']+/gi, `$1$2 ${MASK}`],
  // Bearer/Basic credentials in prose: token-like words only (a digit, + or /, or mixed case, and
  // at least 8 characters), so "basic authentication" and "Bearer realm=..." stay.
  [
    /\b(Bearer|bearer|BEARER|Basic|basic|BASIC)\s+(?=[A-Za-z0-9._~+/-]*(?:[0-9+/]|[a-z][A-Z]|[A-Z][a-z]*[A-Z]))[A-Za-z0-9._~+/-]{8,}=*(?![A-Za-z0-9._~+/=-])/g,
    `$1 ${MASK}`,
  ],
  // scheme://user:password@host and scheme://token@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, `$1${MASK}@`],
  // ?access_token=..., &X-Amz-Signature=..., &sig=...
  [new RegExp(`([?&;][^=&\\s#]*(?:${SECRET_WORDS})[^=&\\s#]*=)[^&\\s#"']*`, 'gi'), `$1${MASK}`],
  // "password": "...", "access_token": "..." in JSON we quote
  [
    /("(?:password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|auth)"\s*:\s*")(?:[^"\\]|\\.)*"/gi,
    `$1${MASK}"`,
  ],
  // JSON Web Tokens wherever they appear
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, MASK],
];

/** `text` with every secret masked: the known ones, `extra`, and anything that looks like one. */
export function redact(text: string, extra: Iterable<string> = []): string {
  let out = text;
  const exact = [...known, ...[...extra].filter((s) => s.length >= MIN_KNOWN_LENGTH)];
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of exact.sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(/ {2,}\*\*\*/g, ` ${MASK}`);
}

/** A URL safe to show: no user info, and secret-looking query parameters masked. */
export function redactUrl(url: URL | string): string {
  return redact(typeof url === 'string' ? url : url.href);
}
