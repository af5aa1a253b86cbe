/**
 * Every way an unpack can fail, one stable code each (DEN03xx). A layer is hostile input: the
 * messages name the entry as it appears in the archive so that the person can find it with `tar -t`.
 */
import { DenError, alreadyExists, failedPrecondition, internal, invalidArgument } from '../common/errors.js';

/**
 * The `reason` of the errors that say the input itself is bad, which a caller reading an archive
 * that is not a layer (den load) reports as its own: the tar is corrupt or truncated, or has an
 * entry type den does not read; the compressed stream is corrupt, or compressed otherwise.
 */
export type UnpackFailure = 'corrupt-archive' | 'unsupported-entry' | 'corrupt-compression' | 'unsupported-compression';

/** Entry names are kept as latin1 strings (one char per byte); this shows them as UTF-8 again. */
export function display(name: string): string {
  return JSON.stringify(Buffer.from(name, 'latin1').toString('utf8')).slice(1, -1);
}

const entry = (name: string): string => `layer entry ${display(name)}`;

export const escapesRoot = (name: string): DenError =>
  invalidArgument('DEN0301', `${entry(name)}: escapes the layer root`);

export const absoluteName = (name: string): DenError =>
  invalidArgument('DEN0302', `${entry(name)}: absolute path names are not allowed in a layer`);

export const invalidName = (name: string, why: string): DenError =>
  invalidArgument('DEN0303', `${entry(name)}: invalid name: ${why}`);

export const symlinkEscape = (name: string, link: string): DenError =>
  invalidArgument(
    'DEN0304',
    `${entry(name)}: its path passes through symlink ${display(link)}, which leaves the layer root`,
  );

export const hardlinkEscape = (name: string, target: string): DenError =>
  invalidArgument('DEN0305', `${entry(name)}: hardlink target ${display(target)} escapes the layer root`);

export const hardlinkTargetMissing = (name: string, target: string, why: string): DenError =>
  invalidArgument('DEN0306', `${entry(name)}: hardlink target ${display(target)} ${why}`);

export const whiteoutEscape = (name: string): DenError =>
  invalidArgument('DEN0307', `${entry(name)}: whiteout target escapes the layer root or is not a name`);

export const tooManyEntries = (limit: number): DenError =>
  invalidArgument('DEN0308', `layer archive has more than ${limit} entries`, {
    hint: 'raise limits.maxEntries if this layer is genuine',
  });

export const tooManyBytes = (name: string, limit: number): DenError =>
  invalidArgument('DEN0309', `${entry(name)}: layer content exceeds ${limit} bytes in total`, {
    hint: 'raise limits.maxTotalBytes if this layer is genuine',
  });

export const fileTooLarge = (name: string, size: number, limit: number): DenError =>
  invalidArgument('DEN0310', `${entry(name)}: file of ${size} bytes exceeds the limit of ${limit} bytes`, {
    hint: 'raise limits.maxFileBytes if this layer is genuine',
  });

export const corrupt = (detail: string, cause?: unknown): DenError =>
  invalidArgument('DEN0311', `layer archive is truncated or corrupt: ${detail}`, {
    cause,
    reason: 'corrupt-archive' satisfies UnpackFailure,
  });

export const unmappedOwner = (name: string, kind: 'uid' | 'gid', id: number, cause: unknown): DenError =>
  failedPrecondition('DEN0312', `${entry(name)}: owner ${kind} ${id} is not mapped in this user namespace`, {
    cause,
    // In a rootless session, id N inside is the Nth id of the user's subordinate range.
    hint:
      `the image needs ${kind} ${id}: give ${process.env.USER ?? 'your user'} a range of at least ${id} ids in ` +
      `/etc/sub${kind} (a line "user:first-id:count"), then restart the den session`,
  });

export const notADirectory = (name: string, component: string): DenError =>
  invalidArgument('DEN0313', `${entry(name)}: ${display(component)} is not a directory`);

export const symlinkLoop = (name: string): DenError =>
  invalidArgument('DEN0314', `${entry(name)}: too many levels of symbolic links in its path`);

export const unsupportedEntry = (name: string, what: string): DenError =>
  invalidArgument('DEN0315', `${entry(name)}: unsupported entry: ${what}`, {
    reason: 'unsupported-entry' satisfies UnpackFailure,
  });

export const destinationExists = (dest: string, cause: unknown): DenError =>
  alreadyExists('DEN0316', `unpack destination ${dest}: already exists`, { cause });

export const writeFailed = (name: string, cause: unknown): DenError =>
  internal('DEN0317', `${entry(name)}: cannot write: ${(cause as Error).message}`, { cause });

export const invalidOwner = (name: string, kind: 'uid' | 'gid', id: number): DenError =>
  invalidArgument('DEN0318', `${entry(name)}: owner ${kind} ${id} is out of range`);

export const xattrFailed = (name: string, xattr: string, cause: unknown): DenError =>
  internal('DEN0319', `${entry(name)}: cannot set extended attribute ${display(xattr)}: ${(cause as Error).message}`, {
    cause,
  });

export const destinationFailed = (dest: string, cause: unknown): DenError =>
  internal('DEN0320', `unpack destination ${dest}: cannot create: ${(cause as Error).message}`, { cause });

export const unpackBug = (cause: unknown): DenError =>
  internal('DEN0321', `unpack failed unexpectedly: ${(cause as Error).message}`, { cause });

const layer = (name: string): string => `layer ${name}`;

export const corruptGzip = (name: string, cause: Error): DenError =>
  invalidArgument('DEN0322', `${layer(name)}: gzip stream is truncated or corrupt: ${cause.message}`, {
    cause,
    reason: 'corrupt-compression' satisfies UnpackFailure,
  });

export const corruptZstd = (name: string, detail: string): DenError =>
  invalidArgument('DEN0323', `${layer(name)}: zstd stream is truncated or corrupt: ${detail}`, {
    reason: 'corrupt-compression' satisfies UnpackFailure,
  });

export const zstdMissing = (name: string, program: string, cause: unknown): DenError =>
  failedPrecondition('DEN0324', `${layer(name)}: is zstd-compressed and ${program} cannot be found`, {
    cause,
    hint: 'install zstd (the zstd package of your distribution) to unpack zstd layers',
  });

export const unsupportedCompression = (name: string, what: string): DenError =>
  invalidArgument('DEN0325', `${layer(name)}: unsupported compression: ${what}`, {
    hint: 'OCI layers are tar, tar+gzip or tar+zstd',
    reason: 'unsupported-compression' satisfies UnpackFailure,
  });

export const zstdFailed = (name: string, program: string, cause: unknown): DenError =>
  internal('DEN0326', `${layer(name)}: cannot run ${program}: ${(cause as Error).message}`, { cause });

export const overwriteDirectory = (name: string): DenError =>
  invalidArgument('DEN0327', `${entry(name)}: cannot overwrite a directory with a non-directory`);

export const overwriteNonDirectory = (name: string): DenError =>
  invalidArgument('DEN0327', `${entry(name)}: cannot overwrite a non-directory with a directory`);

/**
 * An unpack error of an archive that is not a layer (`den cp`), in its words: the same error (kind,
 * code, hint, reason), about an archive entry and the destination directory.
 */
export function asCopyError(e: DenError): DenError {
  const message = e.message
    .replace(/^layer entry /, 'archive entry ')
    .replace(/^layer archive /, 'archive ')
    .replace(/the layer root/g, 'the destination directory')
    .replace(/ in a layer$/, ' in the archive')
    .replace(/: layer content /, ': archive content ');
  if (message === e.message) return e;
  return new DenError(e.kind, e.code, message, {
    cause: e.cause ?? e,
    ...(e.hint ? { hint: e.hint.replace(/this layer/g, 'this archive') } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
  });
}

export const igzipFailed = (name: string, program: string, cause: unknown): DenError =>
  internal('DEN1501', `${layer(name)}: cannot run ${program}: ${(cause as Error).message}`, {
    cause,
    hint: 'DEN_GZIP=zlib inflates gzip layers in den itself',
  });
