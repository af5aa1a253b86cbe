import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../../common/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** Why `-u` names no one in the image (docker's 126: the runtime could not become them). */
export type UserLookupFailure = 'unknown-user' | 'unknown-group';

/**
 * Resolves docker's `--user` forms (name, uid, name:group, uid:gid) against the image's own
 * /etc/passwd and /etc/group, read from the layers top-down without mounting anything. A symlinked
 * /etc/passwd is not followed: it could point anywhere on the host.
 */
export function resolveUser(spec: string, layerDirsTopFirst: readonly string[]): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = parseColonFile(readImageFile(layerDirsTopFirst, 'etc/passwd'));
  const groups = parseColonFile(readImageFile(layerDirsTopFirst, 'etc/group'));
  let uid: number;
  let gid = 0;
  let home = '/';
  let userName: string | undefined;
  const entry =
    passwd.find((p) => p[0] === userPart) ?? (isNumeric(userPart) ? passwd.find((p) => p[2] === userPart) : undefined);
  if (entry) {
    userName = entry[0];
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
  } else {
    throw new DenError(
      'NotFound',
      'DEN0610',
      `unable to find user ${userPart}: no matching entries in the image's passwd file`,
      { reason: 'unknown-user' satisfies UserLookupFailure },
    );
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g =
      groups.find((e) => e[0] === groupPart) ??
      (isNumeric(groupPart) ? groups.find((e) => e[2] === groupPart) : undefined);
    if (g) gid = Number(g[2]);
    else if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      throw new DenError(
        'NotFound',
        'DEN0611',
        `unable to find group ${groupPart}: no matching entries in the image's group file`,
        { reason: 'unknown-group' satisfies UserLookupFailure },
      );
    }
  }
  const additionalGids =
    userName === undefined || groupPart !== undefined
      ? []
      : groups
          .filter((g) => (g[3] ?? '').split(',').includes(userName) && Number(g[2]) !== gid)
          .map((g) => Number(g[2]));
  if (uid > 0xfffffffe || gid > 0xfffffffe) {
    throw new DenError('InvalidArgument', 'DEN0612', `user ${spec}: id out of range`);
  }
  return { uid, gid, additionalGids, home };
}

function isNumeric(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

function parseColonFile(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The content of a file in the image, from the topmost layer that has it; '' when none does. */
export function readImageFile(layerDirsTopFirst: readonly string[], relPath: string): string {
  for (const dir of layerDirsTopFirst) {
    const path = join(dir, relPath);
    try {
      const st = lstatSync(path);
      if (st.isCharacterDevice() && st.rdev === 0) return ''; // an overlay whiteout: deleted here
      if (!st.isFile()) continue;
      return readFileSync(path, 'utf8');
    } catch {
      continue;
    }
  }
  return '';
}
