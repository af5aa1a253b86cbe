/**
 * Where a rootless den may give containers cgroups of their own: a *delegated* cgroup v2, one whose
 * cgroup.procs and cgroup.subtree_control the caller owns, so that the OCI runtime (running as the
 * caller) can make a child, enable controllers in it and move the container's init there.
 *
 * The kernel's rules decide what works, and den checks them before the runtime tries:
 * - a process moves from cgroup A to cgroup B only if its mover may write cgroup.procs of the
 *   nearest common ancestor of A and B: den's own cgroup must be inside the delegation;
 * - a cgroup that holds processes cannot enable controllers for its children (the "no internal
 *   processes" rule), so a child gets the controllers of a parent without processes, or those its
 *   parent has enabled already.
 *
 * With systemd, every cgroup under user@UID.service is the user's: `systemd-run --user --scope den
 * run ...` starts den inside one, and den finds it from its own cgroup. By hand, an administrator
 * chowns a cgroup to the user, starts the user's shell in a child of it and names it with
 * DEN_CGROUP_PARENT.
 *
 *   findDelegation(new LiveCgroupTree('/sys/fs/cgroup'), { own: '/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope', user: 'ann' })
 *   // { delegated: { parent: '/user.slice/.../app.slice/den', root: '/user.slice/.../app.slice', controllers: ['memory', 'pids'], ... } }
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { childCgroup, isWithin, parentCgroup } from './cgroup-layout.js';

/** What the search reads of a cgroup v2 hierarchy; `LiveCgroupTree` is the mounted one. */
export interface CgroupTree {
  /** Where the hierarchy is mounted, for messages. */
  readonly mountPoint: string;
  /** `file` of cgroup `path`; undefined when there is no such cgroup (or file). */
  read(path: string, file: string): string | undefined;
  /** Whether the caller may write `file` of cgroup `path`. */
  writable(path: string, file: string): boolean;
}

export class LiveCgroupTree implements CgroupTree {
  constructor(readonly mountPoint: string) {}

  read(path: string, file: string): string | undefined {
    try {
      return readFileSync(this.file(path, file), 'utf8');
    } catch {
      return undefined;
    }
  }

  writable(path: string, file: string): boolean {
    try {
      accessSync(this.file(path, file), constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  private file(path: string, file: string): string {
    return `${this.mountPoint}${path === '/' ? '' : path}/${file}`;
  }
}

export interface DelegatedCgroup {
  /** Where containers' cgroups go, each `<parent>/<container id>`. */
  parent: string;
  /** The delegated cgroup `parent` is made in (`parent` itself when it was named). */
  root: string;
  /** The controllers a container's cgroup can have there. */
  controllers: string[];
  /** How it was found, for `den system check`. */
  foundBy: 'DEN_CGROUP_PARENT' | "den's own cgroup";
}

/** A delegated cgroup, or why there is none and what to do about it. */
export type Delegation = { delegated: DelegatedCgroup } | { missing: string; fix: string };

export interface DelegationQuery {
  /** den's own cgroup (the `0::` line of /proc/self/cgroup). */
  own: string;
  /** DEN_CGROUP_PARENT: the cgroup to use, instead of searching from `own`. */
  explicit?: string;
  /** The caller's name, for messages. */
  user: string;
}

/** What to do without a delegation, on a cgroup v2 host. */
export function delegationFix(): string {
  return (
    'start den in a cgroup v2 delegated to you: with systemd, `systemd-run --user --scope den run ...`; ' +
    'without, an administrator chowns a cgroup to you (see "Resource limits" in the README) and you set DEN_CGROUP_PARENT'
  );
}

/**
 * Finds the delegated cgroup containers' cgroups go in: the named one (DEN_CGROUP_PARENT), or the
 * nearest cgroup at or above den's own that the caller owns and that can give a child controllers;
 * containers then go in a `den` cgroup below it.
 */
export function findDelegation(tree: CgroupTree, q: DelegationQuery): Delegation {
  const where = (path: string) => `${tree.mountPoint}${path === '/' ? '' : path}`;
  if (q.explicit !== undefined) {
    const p = q.explicit;
    const named = `DEN_CGROUP_PARENT=${p}`;
    if (tree.read(p, 'cgroup.controllers') === undefined) {
      return { missing: `${named}: no such cgroup (${where(p)})`, fix: `create it, or unset DEN_CGROUP_PARENT` };
    }
    if (!tree.writable(p, 'cgroup.procs')) {
      return {
        missing: `${named} is not delegated to ${q.user}: ${where(p)}/cgroup.procs is not theirs to write`,
        fix: delegationFix(),
      };
    }
    const controllers = childControllers(tree, p);
    if (controllers.length === 0) return { missing: `${named} ${noControllers(tree, p)}`, fix: enableFix(tree, p) };
    const common = commonAncestor(q.own, p);
    if (!tree.writable(common, 'cgroup.procs')) {
      return {
        missing:
          `den runs in ${q.own}, outside ${named}: moving a container there needs ${where(common)}/cgroup.procs, ` +
          `which is not ${q.user}'s`,
        fix: `start den from a cgroup inside ${p} (echo $$ > ${where(p)}/<a child>/cgroup.procs, as root)`,
      };
    }
    return { delegated: { parent: p, root: p, controllers, foundBy: 'DEN_CGROUP_PARENT' } };
  }
  const owned: string[] = [];
  for (let p: string | undefined = q.own; p !== undefined; p = parentCgroup(p)) {
    if (!tree.writable(p, 'cgroup.procs')) break;
    owned.push(p);
  }
  if (owned.length === 0) {
    return {
      missing: `den's cgroup ${q.own} is not delegated to ${q.user}: ${where(q.own)}/cgroup.procs is not theirs to write`,
      fix: delegationFix(),
    };
  }
  for (const root of owned) {
    const controllers = childControllers(tree, root);
    if (controllers.length > 0) {
      return { delegated: { parent: childCgroup(root, 'den'), root, controllers, foundBy: "den's own cgroup" } };
    }
  }
  const top = owned.at(-1)!;
  return {
    missing: `the cgroups delegated to ${q.user} (${owned.join(', ')}) give a child cgroup no controllers: ${top} ${noControllers(tree, top)}`,
    fix: enableFix(tree, top),
  };
}

/** Why cgroup `path` gives a child no controllers. */
function noControllers(tree: CgroupTree, path: string): string {
  if (words(tree.read(path, 'cgroup.controllers')).length === 0) {
    return 'has no controllers (its parent enables none in cgroup.subtree_control)';
  }
  return 'holds processes and enables no controllers in cgroup.subtree_control';
}

function enableFix(tree: CgroupTree, path: string): string {
  const where = `${tree.mountPoint}${path === '/' ? '' : path}`;
  if (words(tree.read(path, 'cgroup.controllers')).length === 0) {
    const parent = parentCgroup(path) ?? '/';
    return (
      `as root, enable them for it: echo '+memory +pids +cpu +cpuset' > ${tree.mountPoint}${parent === '/' ? '' : parent}/cgroup.subtree_control ` +
      `(systemd: Delegate=memory pids cpu cpuset for user@.service)`
    );
  }
  return `enable them (echo '+memory +pids +cpu' > ${where}/cgroup.subtree_control) before processes join it, or use its parent`;
}

/**
 * The controllers a new child of `path` can have: those `path` has enabled for its children, or,
 * while it holds no processes and the caller may enable them, all it has.
 */
function childControllers(tree: CgroupTree, path: string): string[] {
  const enabled = words(tree.read(path, 'cgroup.subtree_control'));
  const idle = (tree.read(path, 'cgroup.procs') ?? '').trim() === '';
  if (idle && tree.writable(path, 'cgroup.subtree_control')) return words(tree.read(path, 'cgroup.controllers'));
  return enabled;
}

function commonAncestor(a: string, b: string): string {
  let p: string | undefined = a;
  while (p !== undefined && !isWithin(b, p)) p = parentCgroup(p);
  return p ?? '/';
}

function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}
