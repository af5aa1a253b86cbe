import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../common/host-check.js';
import { parseMountinfo } from '../common/mountinfo.js';
import { describeCgroups } from './runtime-checks.js';

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
    rootless?: boolean;
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
      name: 'hybrid, rootless: no limits',
      mountinfo: hybrid,
      controllers: { '/sys/fs/cgroup/unified': '' },
      rootless: true,
      status: 'ok',
      detail: /no resource limits/,
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
      const r = describeCgroups(parseMountinfo(c.mountinfo), (dir) => c.controllers[dir], c.rootless ?? false);
      assert.equal(r.status, c.status, r.detail);
      assert.match(r.detail, c.detail);
      if (c.fix) assert.match(r.fix ?? '', c.fix);
      else assert.equal(r.fix, undefined);
    });
  }
});
