import { invalidArgument } from '../common/errors.js';

/**
 * Vocabulary of this module. A *host id* is a uid or gid as the initial user namespace (and the disk)
 * sees it; a *container id* is the same person seen from inside a container's user namespace. The two
 * are different numbers for the same owner, and confusing them is how files end up owned by the wrong
 * person, so they are distinct types: passing a HostId where a ContainerId is expected does not compile.
 */
export type HostId = number & { readonly __brand: 'HostId' };
export type ContainerId = number & { readonly __brand: 'ContainerId' };

/** (uid_t)-1: setresuid and chown read it as "leave unchanged", so the kernel never maps it. */
export const INVALID_ID = 0xffffffff;
/** The highest id a map may contain. */
export const MAX_ID = INVALID_ID - 1;

/**
 * A run of `count` consecutive ids starting at `start`: start .. start+count-1. Subordinate ranges
 * are host ids; the arithmetic in ranges.ts works on either side.
 */
export interface IdRange<Id extends number = HostId> {
  readonly start: Id;
  readonly count: number;
}

export const isValidId = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_ID;

function checkId(n: number, what: string): void {
  if (!isValidId(n)) {
    throw invalidArgument('DEN0212', `${what} ${n} is not a valid id: ids are integers from 0 to ${MAX_ID}`);
  }
}

/** Brands a number as a host id after checking it is an id at all (0 .. 4294967294). */
export function hostId(n: number): HostId {
  checkId(n, 'host id');
  return n as HostId;
}

/** Brands a number as a container id after checking it is an id at all (0 .. 4294967294). */
export function containerId(n: number): ContainerId {
  checkId(n, 'container id');
  return n as ContainerId;
}
