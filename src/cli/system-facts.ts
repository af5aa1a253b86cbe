/**
 * Facts `den version` and `den info` share: the engine's (engine/system/docker-facts.ts, which the
 * API server answers with too) and the CLI's own renderings.
 */
import { scaledSize } from './output.js';

export { API_VERSION, MIN_API_VERSION, goArch, runtimeVersionNumber, unameArch } from '../engine/index.js';

/** Sizes as docker's info prints memory: binary units, four significant digits (7.751GiB). */
export const binarySize = (bytes: number): string => scaledSize(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 4);

/** `-f/--format` of version and info: `json`, or a template over the one object. */
export const formatFlag = {
  long: 'format',
  short: 'f',
  type: 'string',
  help: "Format output: json, or a Go template like '{{json .}}'",
} as const;
