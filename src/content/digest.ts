import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../common/errors.js';

/** A content digest, `sha256:` and 64 lowercase hex digits. Branded so a name can't pass for one. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) {
    throw invalidArgument('DEN0401', `invalid digest "${s}": expected sha256: and 64 lowercase hex digits`);
  }
  return s;
}

export function digestOf(data: string | Buffer): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

export function newHash(): Hash {
  return createHash('sha256');
}

export function digestFromHash(hash: Hash): Digest {
  return `sha256:${hash.digest('hex')}` as Digest;
}

export function hexOf(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

/** Chain id of a layer stack (OCI image spec): ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : digestOf(`${parent} ${diffId}`));
  }
  return out;
}
