import { join } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import type { DenPaths } from '../common/paths.js';

/**
 * Where the service listens without a URI: in den's runtime directory, which is
 * $XDG_RUNTIME_DIR/den (or den's fallback) rootless and /run/den as root.
 */
export function defaultSocketPath(paths: DenPaths): string {
  return join(paths.runtimeDir, 'docker.sock');
}

/** `unix:///PATH` (or a bare absolute path) to the socket's path; TCP is refused until it can require TLS client certificates. */
export function parseServiceUri(uri: string): string {
  const unix = /^unix:\/\/(\/.*)$/.exec(uri);
  if (unix) return unix[1]!;
  if (uri.startsWith('/')) return uri;
  if (/^tcp:\/\//.test(uri)) {
    throw invalidArgument(
      'DEN1407',
      `${uri}: den serves the API over TCP only with TLS client certificates, which it does not take yet`,
      {
        hint: 'use a unix socket (unix:///PATH); forward it with ssh -L if the client is remote',
      },
    );
  }
  throw invalidArgument('DEN1407', `${uri}: not a service URI`, { hint: 'use unix:///PATH' });
}
