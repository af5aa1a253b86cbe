import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountinfo } from '../common/mountinfo.js';
import {
  cgroupDirs,
  cgroupLayout,
  childCgroup,
  parentCgroup,
  rootControllers,
  unifiedCgroupOf,
} from './cgroup-layout.js';

/** This development host's layout: v1 hierarchies (one for name=systemd), a cgroup2 without controllers. */
const HYBRID = [
  '26 22 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '27 26 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '28 26 0:25 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '29 26 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '30 26 0:27 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '31 26 0:28 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '32 26 0:29 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

test('a hybrid layout: each v1 controller, name=systemd, and the cgroup2 at unified', () => {
  const layout = cgroupLayout(parseMountinfo(HYBRID));
  assert.equal(layout.version, 'hybrid');
  assert.equal(layout.unified, '/sys/fs/cgroup/unified');
  assert.deepEqual(
    rootControllers(layout, () => 'hugetlb'),
    ['cpu', 'cpuacct', 'memory', 'pids'],
  );
  assert.deepEqual(cgroupDirs(layout, '/den/c1'), [
    '/sys/fs/cgroup/cpu/den/c1',
    '/sys/fs/cgroup/cpuacct/den/c1',
    '/sys/fs/cgroup/memory/den/c1',
    '/sys/fs/cgroup/pids/den/c1',
    '/sys/fs/cgroup/systemd/den/c1',
    '/sys/fs/cgroup/unified/den/c1',
  ]);
});

test('cpu and cpuacct in one hierarchy: its directory once', () => {
  const layout = cgroupLayout(
    parseMountinfo(
      [
        '26 22 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
        '27 26 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      ].join('\n'),
    ),
  );
  assert.equal(layout.version, 'v1');
  assert.equal(layout.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.deepEqual(cgroupDirs(layout, '/den/c1'), ['/sys/fs/cgroup/cpu,cpuacct/den/c1']);
});

test('cgroup v2: one hierarchy, its controllers from cgroup.controllers', () => {
  const layout = cgroupLayout(parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate'));
  assert.equal(layout.version, 'v2');
  assert.deepEqual(
    rootControllers(layout, (dir) => (dir === '/sys/fs/cgroup' ? 'cpu memory pids\n' : undefined)),
    ['cpu', 'memory', 'pids'],
  );
  assert.deepEqual(cgroupDirs(layout, '/a/b'), ['/sys/fs/cgroup/a/b']);
  assert.equal(cgroupLayout([]).version, 'none');
});

test('cgroup paths: the cgroup2 line of /proc/PID/cgroup, parents and children', () => {
  assert.equal(unifiedCgroupOf('4:memory:/x\n1:cpu:/\n0::/user.slice/a.scope\n'), '/user.slice/a.scope');
  assert.equal(unifiedCgroupOf('4:memory:/x\n'), undefined);
  assert.equal(parentCgroup('/a/b'), '/a');
  assert.equal(parentCgroup('/a'), '/');
  assert.equal(parentCgroup('/'), undefined);
  assert.equal(childCgroup('/', 'den'), '/den');
  assert.equal(childCgroup('/a', 'den'), '/a/den');
});
