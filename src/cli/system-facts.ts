/**
 * Facts `den version` and `den info` share, in docker's vocabulary: docker names architectures as
 * Go does (amd64) in `version` and as uname does (x86_64) in `info`, and speaks an API version.
 */
import { hostPlatform } from '../images/index.js';
import { scaledSize } from './output.js';

/**
 * The Docker Engine API version den's commands follow (podman's compatibility API says the same),
 * and the oldest docker's clients may ask for.
 */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

const UNAME_ARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64',
  ia32: 'i686',
  arm64: 'aarch64',
  ppc64: 'ppc64le',
};

/** The architecture as Go and OCI name it (docker version's OS/Arch, podman's host.arch). */
export const goArch = (arch: NodeJS.Architecture = process.arch): string => hostPlatform(arch).architecture;
/** The architecture as uname -m names it (docker info's Architecture). */
export const unameArch = (arch: NodeJS.Architecture = process.arch): string => UNAME_ARCH[arch] ?? arch;

/** The version number in a runtime's `--version` text: "crun version 1.8.1\n..." -> 1.8.1. */
export const runtimeVersionNumber = (text: string): string => /version (\S+)/.exec(text)?.[1] ?? '';

/** Sizes as docker's info prints memory: binary units, four significant digits (7.751GiB). */
export const binarySize = (bytes: number): string => scaledSize(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 4);

/** `-f/--format` of version and info: `json`, or a template over the one object. */
export const formatFlag = {
  long: 'format',
  short: 'f',
  type: 'string',
  help: "Format output: json, or a Go template like '{{json .}}'",
} as const;
