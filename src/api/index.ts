/**
 * The Docker Engine API (1.41) on a unix socket: `den system service`. Beside the CLI, in front of
 * the same engine: it parses requests into the engine's specs and renders docker's JSON, as the CLI
 * parses flags and prints tables.
 */
export { startService, type Service, type ServiceOptions } from './server.js';
export { defaultSocketPath, parseServiceUri } from './service-uri.js';
