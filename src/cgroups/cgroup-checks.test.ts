import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../common/host-check.js';
import { parseMountinfo } from '../common/mountinfo.js';
import { checkCgroupLimits, describeCgroups, type LimitsProbe } from './cgroup-checks.js';
import { FakeCgroupTree } from './fake-cgroup-tree.js';
import type { Host } from '../common/host-check.js';

describe('describeCgroups', () => {
  const v1 = (c: string) => `3${c.length} 31 0:29 / /sys/fs/cgroup/${c} rw - cgroup cgroup rw,${c}`;
  const hybrid = [
    '31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
    v1('cpu'),
    v1('memory'),
    '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n');
  const cases: {
    name: string;
    mountinfo: string;
    controllers: Record<string, string>;
    status: Finding['status'];
    detail: RegExp;
    fix?: RegExp;
  }[] = [
    {
      name: 'unified cgroup v2',
      mountinfo: '30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
      controllers: { '/sys/fs/cgroup': 'cpu io memory pids\n' },
      status: 'ok',
      detail: /^cgroup v2 \(unified\) .*controllers: cpu io memory pids$/,
    },
    {
      name: 'hybrid with hugetlb in the v2 hierarchy: crun refuses',
      mountinfo: hybrid,
      controllers: { '/sys/fs/cgroup/unified': 'hugetlb\n' },
      status: 'fail',
      detail: /carries hugetlb.*cgroups in hybrid mode not supported/,
      fix: /^mkdir -p \/sys\/fs\/cgroup\/hugetlb && mount -t cgroup -o hugetlb cgroup \/sys\/fs\/cgroup\/hugetlb \(or run scripts\/setup-host.sh as root\)$/,
    },
    {
      name: 'hybrid with an empty v2 hierarchy: accepted as v1',
      mountinfo: hybrid,
      controllers: { '/sys/fs/cgroup/unified': '' },
      status: 'ok',
      detail: /^hybrid: v1 hierarchies \(cpu, memory\) .*without controllers/,
    },
    {
      name: 'legacy v1 only',
      mountinfo: ['31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw', v1('pids')].join('\n'),
      controllers: {},
      status: 'ok',
      detail: /^cgroup v1 \(legacy\): pids$/,
    },
    {
      name: 'nothing mounted',
      mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
      controllers: {},
      status: 'warn',
      detail: /nothing is mounted at \/sys\/fs\/cgroup/,
      fix: /mount -t cgroup2/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = describeCgroups(parseMountinfo(c.mountinfo), (dir) => c.controllers[dir]);
      assert.equal(r.status, c.status, r.detail);
      assert.match(r.detail, c.detail);
      if (c.fix) assert.match(r.fix ?? '', c.fix);
      else assert.equal(r.fix, undefined);
    });
  }
});

describe('checkCgroupLimits', () => {
  const v1 = (c: string) => `3${c.length} 31 0:29 / /sys/fs/cgroup/${c} rw - cgroup cgroup rw,${c}`;
  const hybrid = (...controllers: string[]) =>
    parseMountinfo(
      [
        '31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
        ...controllers.map(v1),
        '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
      ].join('\n'),
    );
  const unified = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
  const host = (rootless: boolean, mounts: ReturnType<typeof parseMountinfo>) =>
    ({ rootless, userName: 'ann', mounts }) as unknown as Host;
  // In-memory trees: this host's cgroup v2 has no controllers and nothing delegated (fake-cgroup-tree.ts).
  const probe = (own: string, tree: FakeCgroupTree): LimitsProbe => ({
    tree: () => tree,
    ownCgroup: () => own,
    readControllers: () => 'cpuset cpu memory pids',
  });
  const delegated = new FakeCgroupTree({
    '/': { controllers: 'cpuset cpu memory pids', subtree: 'cpu memory pids' },
    '/den-ann': { controllers: 'cpu memory pids', owned: true },
    '/den-ann/shell': { procs: '7', owned: true },
  });

  test('root on a hybrid host: the v1 controllers, containers under /den', () => {
    const r = checkCgroupLimits(host(false, hybrid('cpu', 'cpuset', 'memory', 'pids')));
    assert.equal(r.status, 'ok', r.detail);
    assert.equal(
      r.detail,
      "as root: cgroup v1 (hybrid layout), controllers memory cpu cpuset pids; containers' cgroups under /den",
    );
  });

  test('root without the pids hierarchy: warned, with the mount that adds it', () => {
    const r = checkCgroupLimits(host(false, hybrid('cpu', 'cpuset', 'memory')));
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /without pids \(their limits are refused\)/);
    assert.equal(r.fix, 'mkdir -p /sys/fs/cgroup/pids && mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids');
  });

  test('rootless on a hybrid host: no limits, and why', () => {
    const r = checkCgroupLimits(host(true, hybrid('cpu', 'memory')));
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /^rootless: none: this host keeps its cgroup controllers on cgroup v1 \(hybrid layout\)/);
    assert.match(r.fix ?? '', /systemd\.unified_cgroup_hierarchy=1/);
  });

  test('rootless with a delegated cgroup v2: where, and which controllers (cpuset missing)', () => {
    const r = checkCgroupLimits(host(true, unified), '/den-ann', probe('/den-ann/shell', delegated));
    assert.equal(r.status, 'warn');
    assert.equal(
      r.detail,
      "rootless: cgroup v2 delegated at /den-ann (DEN_CGROUP_PARENT), controllers: cpu memory pids; containers' cgroups under /den-ann; without cpuset",
    );
  });

  test('rootless on cgroup v2 without a delegation: the fix', () => {
    const r = checkCgroupLimits(host(true, unified), undefined, probe('/user.slice', delegated));
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /^rootless: none: den's cgroup \/user\.slice is not delegated to ann/);
    assert.match(r.fix ?? '', /systemd-run --user --scope/);
  });
});
