import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findDelegation, type Delegation } from './delegation.js';
import { FakeCgroupTree, type FakeCgroup } from './fake-cgroup-tree.js';

/** A systemd user's tree: the login shell in a root-owned session scope, systemd --user's subtree the user's. */
const USER = '/user.slice/user-1001.slice';
const MANAGER = `${USER}/user@1001.service`;
const systemd: Record<string, FakeCgroup> = {
  '/': { controllers: 'cpuset cpu io memory pids', subtree: 'cpuset cpu io memory pids', procs: '1' },
  '/user.slice': { controllers: 'cpuset cpu io memory pids', subtree: 'cpu memory pids' },
  [USER]: { controllers: 'cpu memory pids', subtree: 'cpu memory pids' },
  [`${USER}/session-3.scope`]: { controllers: 'cpu memory pids', procs: '900\n901' },
  [MANAGER]: { controllers: 'cpu memory pids', subtree: 'cpu memory pids', owned: true },
  [`${MANAGER}/init.scope`]: { controllers: 'cpu memory pids', procs: '950', owned: true },
  [`${MANAGER}/app.slice`]: { controllers: 'cpu memory pids', subtree: 'memory pids', owned: true },
  [`${MANAGER}/app.slice/run-r1.scope`]: { controllers: 'memory pids', procs: '1200', owned: true },
};

/** An administrator's delegation by hand: /den-ann chowned to ann, her shell moved into /den-ann/shell. */
const byHand: Record<string, FakeCgroup> = {
  '/': { controllers: 'cpuset cpu memory pids', subtree: 'cpuset cpu memory pids', procs: '1' },
  '/den-ann': { controllers: 'cpuset cpu memory pids', owned: true },
  '/den-ann/shell': { controllers: '', procs: '700', owned: true },
  '/user.slice': { controllers: 'cpu memory pids', procs: '800' },
  '/busy': { controllers: 'cpu memory pids', subtree: 'pids', procs: '5', owned: true },
};

const found = (d: Delegation) => {
  assert.ok('delegated' in d, 'missing' in d ? d.missing : '');
  return d.delegated;
};
const missing = (d: Delegation) => {
  assert.ok('missing' in d, `found ${JSON.stringify(d)}`);
  return d;
};

describe('findDelegation (in-memory cgroup v2 trees: this host has no delegatable cgroup v2)', () => {
  test('under systemd --user: the nearest owned cgroup without processes, containers in a den cgroup below', () => {
    const d = found(
      findDelegation(new FakeCgroupTree(systemd), { own: `${MANAGER}/app.slice/run-r1.scope`, user: 'ann' }),
    );
    assert.equal(d.root, `${MANAGER}/app.slice`);
    assert.equal(d.parent, `${MANAGER}/app.slice/den`);
    // app.slice holds no processes, so crun may enable all it has for its children.
    assert.deepEqual(d.controllers, ['cpu', 'memory', 'pids']);
    assert.equal(d.foundBy, "den's own cgroup");
  });

  test("a login shell's session scope is root's: no delegation, and the fix says how to get one", () => {
    const d = missing(findDelegation(new FakeCgroupTree(systemd), { own: `${USER}/session-3.scope`, user: 'ann' }));
    assert.match(d.missing, /den's cgroup \/user\.slice\/user-1001\.slice\/session-3\.scope is not delegated to ann/);
    assert.match(d.missing, /\/sys\/fs\/cgroup\/user\.slice\/user-1001\.slice\/session-3\.scope\/cgroup\.procs/);
    assert.match(d.fix, /systemd-run --user --scope/);
    assert.match(d.fix, /DEN_CGROUP_PARENT/);
  });

  test('owned cgroups that can give a child no controller are no delegation', () => {
    const tree = new FakeCgroupTree({
      '/': { controllers: 'memory', subtree: 'memory' },
      '/mine': { controllers: 'memory', procs: '10', owned: true },
    });
    const d = missing(findDelegation(tree, { own: '/mine', user: 'ann' }));
    assert.match(
      d.missing,
      /the cgroups delegated to ann \(\/mine\) give a child cgroup no controllers: \/mine holds processes and enables no controllers/,
    );
  });

  test('a delegated cgroup whose parent enables no controller for it: the fix enables them there', () => {
    const tree = new FakeCgroupTree({
      '/': { controllers: 'memory pids' },
      '/den-ann': { owned: true },
      '/den-ann/shell': { procs: '7', owned: true },
    });
    const d = missing(findDelegation(tree, { own: '/den-ann/shell', explicit: '/den-ann', user: 'ann' }));
    assert.equal(
      d.missing,
      'DEN_CGROUP_PARENT=/den-ann has no controllers (its parent enables none in cgroup.subtree_control)',
    );
    assert.match(
      d.fix,
      /^as root, enable them for it: echo '\+memory \+pids \+cpu \+cpuset' > \/sys\/fs\/cgroup\/cgroup\.subtree_control/,
    );
  });

  test('DEN_CGROUP_PARENT: a cgroup delegated by hand, with den started inside it', () => {
    const d = found(
      findDelegation(new FakeCgroupTree(byHand), { own: '/den-ann/shell', explicit: '/den-ann', user: 'ann' }),
    );
    assert.deepEqual(d, {
      parent: '/den-ann',
      root: '/den-ann',
      controllers: ['cpuset', 'cpu', 'memory', 'pids'],
      foundBy: 'DEN_CGROUP_PARENT',
    });
  });

  test('DEN_CGROUP_PARENT with den outside it: moving the container would need the common ancestor', () => {
    const d = missing(
      findDelegation(new FakeCgroupTree(byHand), { own: '/user.slice', explicit: '/den-ann', user: 'ann' }),
    );
    assert.match(
      d.missing,
      /den runs in \/user\.slice, outside DEN_CGROUP_PARENT=\/den-ann: .*\/sys\/fs\/cgroup\/cgroup\.procs/,
    );
    assert.match(d.fix, /start den from a cgroup inside \/den-ann/);
  });

  test("DEN_CGROUP_PARENT that does not exist, or is not the caller's", () => {
    const tree = new FakeCgroupTree(byHand);
    assert.match(
      missing(findDelegation(tree, { own: '/den-ann/shell', explicit: '/nope', user: 'ann' })).missing,
      /DEN_CGROUP_PARENT=\/nope: no such cgroup \(\/sys\/fs\/cgroup\/nope\)/,
    );
    assert.match(
      missing(findDelegation(tree, { own: '/den-ann/shell', explicit: '/user.slice', user: 'ann' })).missing,
      /DEN_CGROUP_PARENT=\/user\.slice is not delegated to ann/,
    );
  });

  test('a parent that holds processes gives only the controllers it has enabled', () => {
    const d = found(findDelegation(new FakeCgroupTree(byHand), { own: '/busy', explicit: '/busy', user: 'ann' }));
    assert.deepEqual(d.controllers, ['pids']);
  });
});
