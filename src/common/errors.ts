/**
 * den's one error type. Every failure that reaches the CLI is a DenError with a kind from a closed
 * set (modelled on containerd's errdefs), a stable code that is never reused, an optional hint that
 * tells the person what to do next, and an optional cause.
 *
 * Codes are registered in error-codes.ts (and listed for people in docs/errors.md); a new one is
 * added to both, a code is never renumbered or reused.
 */
import type { ErrorCode } from './error-codes.js';

export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Conflict'
  | 'PermissionDenied'
  | 'Unavailable'
  | 'Internal';

export interface DenErrorOptions {
  hint?: string;
  cause?: unknown;
  /**
   * What a caller may branch on, finer than the kind and stable like the code: a short word the
   * throwing module exports in a union of its own (`'lifecycle'`, `'truncated-archive'`). Never
   * branch on the code or the message.
   */
  reason?: string;
}

export class DenError extends Error {
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly reason: string | undefined;

  constructor(kind: ErrorKind, code: ErrorCode, message: string, options: DenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DenError';
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
    this.reason = options.reason;
  }
}

export const notFound = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('NotFound', code, message, options);
export const invalidArgument = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('InvalidArgument', code, message, options);
export const failedPrecondition = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('FailedPrecondition', code, message, options);
export const conflict = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('Conflict', code, message, options);
export const alreadyExists = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('AlreadyExists', code, message, options);
export const permissionDenied = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('PermissionDenied', code, message, options);
export const unavailable = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('Unavailable', code, message, options);
export const internal = (code: ErrorCode, message: string, options?: DenErrorOptions): DenError =>
  new DenError('Internal', code, message, options);

export const isDenError = (e: unknown): e is DenError => e instanceof DenError;

/** The errno code of a Node.js system error ('ENOENT', ...), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
