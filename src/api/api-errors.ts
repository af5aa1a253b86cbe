/**
 * Failures as the Docker Engine API tells them: an HTTP status and `{"message": "..."}`. Every
 * error a route throws comes through `dockerError`, the one place where den's error kinds become
 * docker's status codes, so that clients that branch on the status (docker-py's NotFound,
 * compose's conflict handling, testcontainers' retries) see what dockerd would send.
 */
import { DenError, isDenError, type DenErrorOptions } from '../common/errors.js';
import type { ErrorCode } from '../common/error-codes.js';

/** What the API adds to den's reasons: an endpoint or a feature den does not serve (501), a wrong method (405). */
export type ApiFailure = 'not-implemented' | 'method-not-allowed';

export interface DockerError {
  status: number;
  message: string;
}

/**
 * docker's status per kind (its errdefs): NotFound 404, a conflict with the object's state or
 * name 409, bad input 400, refused 403, not there yet 503, den's own failure 500. A failed
 * precondition is the host's (a missing helper program) unless its reason says the object's state
 * is at fault, as lifecycle refusals do.
 */
const STATUS_BY_KIND: Record<DenError['kind'], number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  InvalidArgument: 400,
  PermissionDenied: 403,
  FailedPrecondition: 500,
  Unavailable: 503,
  Internal: 500,
};

/** Reasons whose status is not their kind's. */
const STATUS_BY_REASON: Record<string, number> = {
  'not-implemented': 501,
  'method-not-allowed': 405,
  lifecycle: 409,
  'not-running': 409,
};

export function dockerError(e: unknown): DockerError {
  if (!isDenError(e)) {
    return { status: 500, message: e instanceof Error ? e.message : String(e) };
  }
  const status = (e.reason !== undefined ? STATUS_BY_REASON[e.reason] : undefined) ?? STATUS_BY_KIND[e.kind];
  // docker's not-found messages are capitalised ("No such container: web"), its others are not.
  const message = e.message.startsWith('no such ') ? `N${e.message.slice(1)}` : e.message;
  return { status, message: e.hint ? `${message} (${e.hint})` : message };
}

/** An endpoint or a feature of one that den does not serve yet: 501 with what to do instead. */
export function notImplemented(code: ErrorCode, message: string, options: DenErrorOptions = {}): DenError {
  return new DenError('Unavailable', code, message, { ...options, reason: 'not-implemented' satisfies ApiFailure });
}
