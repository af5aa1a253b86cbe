import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { cgroupDirs, cgroupLayout, type CgroupLayout } from '../src/cgroups/index.js';
import { parseMountinfo } from '../src/common/mountinfo.js';
import { busyboxTarball, denCommand, DenEnv, type Result } from './harness.js';

/**
 * Resource limits (--memory, --cpus, --pids-limit, --ulimit ...) through the built CLI with real
 * containers: as root, read back inside the container and found in the container's cgroup on the
 * host; rootless, refused where no cgroup v2 is delegated, and --ulimit working without one.
 */
const MiB = 1024 * 1024;
const layout: CgroupLayout = cgroupLayout(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')));
const v2 = layout.version === 'v2';

/** Whether this process (and so a den it starts as root) may raise hard rlimits. */
function canRaiseHardLimits(): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n;
}

function ownHardLimit(label: string): string {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(label))!;
  return line.slice(label.length).trim().split(/\s+/)[1]!;
}

/** Refused as docker refuses: its words on stderr, 125, nothing on stdout. */
function assertRefused(r: Result, message: RegExp): void {
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stdout, '');
}

describe('resource limits as root', { skip: layout.version === 'none' ? 'no cgroups mounted' : false }, () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv('root');
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => env.cleanup());

  const flags = [
    '-m',
    '64m',
    '--memory-reservation',
    '32m',
    '--cpus',
    '0.5',
    '-c',
    '512',
    '--cpuset-cpus',
    '0',
    '--pids-limit',
    '50',
    '--ulimit',
    'nofile=1024:4096',
  ];

  test('each limit is what the container reads from its cgroup, and ulimit -n what it gets', () => {
    const files = v2
      ? ['memory.max', 'memory.swap.max', 'memory.low', 'cpu.max', 'cpuset.cpus', 'pids.max']
      : [
          'memory/memory.limit_in_bytes',
          'memory/memory.memsw.limit_in_bytes',
          'memory/memory.soft_limit_in_bytes',
          'cpu/cpu.cfs_quota_us',
          'cpu/cpu.cfs_period_us',
          'cpu/cpu.shares',
          'cpuset/cpuset.cpus',
          'pids/pids.max',
        ];
    const script = `cd /sys/fs/cgroup && cat ${files.join(' ')} && ulimit -n && ulimit -Hn`;
    const r = env.den(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
    assert.equal(r.status, 0, r.stderr);
    // Swap is twice the memory unless given (docker's default); cgroup v2 keeps swap apart from memory.
    const expected = v2
      ? [`${64 * MiB}`, `${64 * MiB}`, `${32 * MiB}`, '50000 100000', '0', '50']
      : [`${64 * MiB}`, `${128 * MiB}`, `${32 * MiB}`, '50000', '100000', '512', '0', '50'];
    assert.deepEqual(r.stdout.trim().split('\n'), [...expected, '1024', '4096']);
  });

  test('runc is given the same limits', () => {
    const file = v2 ? 'memory.max' : 'memory/memory.limit_in_bytes';
    const pids = v2 ? 'pids.max' : 'pids/pids.max';
    const r = env.den([
      'run',
      '--rm',
      '--runtime',
      'runc',
      '-m',
      '96m',
      '--pids-limit',
      '7',
      '--ulimit',
      'nofile=300',
      'busybox',
      'sh',
      '-c',
      `cat /sys/fs/cgroup/${file} /sys/fs/cgroup/${pids}; ulimit -n`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`${96 * MiB}`, '7', '300']);
  });

  test(
    'every container has its cgroup at /den/<id> in each hierarchy while it runs, removed when it exits',
    { timeout: 60_000 },
    async () => {
      const run = env.denAsync(['run', '--rm', '--name', 'placed', 'busybox', 'sleep', '3']);
      let id = '';
      let pid = 0;
      for (let i = 0; i < 100 && pid === 0; i++) {
        const r = env.den(['inspect', '-f', '{{.Id}} {{.State.Pid}}', 'placed']);
        if (r.status === 0) [id, pid] = [r.stdout.split(' ')[0]!, Number(r.stdout.split(' ')[1])];
        if (pid === 0) await sleep(50);
      }
      assert.ok(pid > 0, 'the container started');
      const dirs = cgroupDirs(layout, `/den/${id}`);
      assert.ok(dirs.length > 0);
      for (const dir of dirs) assert.ok(existsSync(dir), `${dir} exists while it runs`);
      // Its init is in that cgroup in every hierarchy (/proc/PID/cgroup: one line per hierarchy).
      const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
      for (const line of lines) assert.ok(line.endsWith(`:/den/${id}`), line);
      const done = await run;
      assert.equal(done.status, 0, done.stderr);
      for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} removed`);
    },
  );

  test('rm removes what a killed runtime left of the cgroup', () => {
    const created = env.den(['create', '--pids-limit', '5', 'busybox', 'true']);
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    // As the runtime leaves it when it is killed between making the cgroup and deleting it.
    const dirs = cgroupDirs(layout, `/den/${id}`);
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    try {
      const r = env.den(['rm', id]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} removed`);
    } finally {
      for (const dir of dirs.filter((d) => existsSync(d))) rmdirSync(dir);
    }
  });

  test("bad values: docker's messages, exit 125, nothing created", () => {
    const cases: [string[], RegExp][] = [
      [['-m', 'abc'], /^invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'\n/],
      [['--memory=10x'], /^invalid argument "10x" for "-m, --memory" flag: invalid suffix: 'x'\n/],
      [['--memory-swap', '-2'], /^invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'\n/],
      [['--cpus', 'lots'], /^invalid argument "lots" for "--cpus" flag: failed to parse lots as a rational number\n/],
      [['--cpus', '0.0000000001'], /^invalid argument "0\.0000000001" for "--cpus" flag: value is too precise\n/],
      [
        ['-c', 'x'],
        /^invalid argument "x" for "-c, --cpu-shares" flag: strconv\.ParseInt: parsing "x": invalid syntax\n/,
      ],
      [
        ['--pids-limit', '1.5'],
        /^invalid argument "1\.5" for "--pids-limit" flag: strconv\.ParseInt: parsing "1\.5": invalid syntax\n/,
      ],
      [['--ulimit', 'nofile'], /^invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile\n/],
      [['--ulimit', 'as=1'], /^invalid argument "as=1" for "--ulimit" flag: invalid ulimit type: as\n/],
      [
        ['--ulimit', 'nofile=2:1'],
        /^invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1\n/,
      ],
      [['-m', '4m'], /^Error: Minimum memory limit allowed is 6MB\n$/],
      [
        ['-m', '64m', '--memory-swap', '32m'],
        /^Error: Minimum memoryswap limit should be larger than memory limit, see usage\n$/,
      ],
      [
        ['--memory-swap', '64m'],
        /^Error: You should always set the Memory limit when using Memoryswap limit, see usage\n$/,
      ],
      [['--memory-reservation', '1m'], /^Error: Minimum memory reservation allowed is 6MB\n$/],
      [
        ['-m', '64m', '--memory-reservation', '128m'],
        /^Error: Minimum memory limit can not be less than memory reservation limit, see usage\n$/,
      ],
      [['--cpus', '1000'], /^Error: range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available\n$/],
      [['--cpu-shares', '-5'], /^Error: invalid CPU shares \(-5\): value must be a positive integer\n$/],
      [['--cpuset-cpus', '0-x'], /^Error: Invalid value 0-x for cpuset cpus: invalid format: 0-x\n$/],
      [['--cpuset-cpus', '1000'], /^Error: Requested CPUs are not available - requested 1000, available: [0-9,-]+\n$/],
    ];
    for (const [args, message] of cases) {
      for (const command of [['run', '--rm'], ['create']]) {
        const r = env.den([...command, ...args, 'busybox', 'true']);
        assertRefused(r, message);
        // A malformed value is a usage error (docker's flag parsing); the rest are the engine's.
        if (message.source.startsWith('^invalid argument'))
          assert.match(r.stderr, new RegExp(`\nSee 'den ${command[0]} --help'\.\n$`));
        else assert.doesNotMatch(r.stderr, /See 'den/);
      }
    }
    assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
    assert.deepEqual(env.containerDirs(), []);
    assert.deepEqual(env.mountsUnderRoot(), []);
  });

  test("--ulimit above den's own hard limit: a clear error before the runtime's EPERM, unless den may raise it", () => {
    const own = ownHardLimit('Max open files');
    const above = own === 'unlimited' ? undefined : Number(own) + 1;
    if (above === undefined) return; // nothing is above unlimited
    const r = env.den(['run', '--rm', '--ulimit', `nofile=1024:${above}`, 'busybox', 'sh', '-c', 'ulimit -Hn']);
    if (canRaiseHardLimits()) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${above}\n`);
      return;
    }
    assertRefused(
      r,
      new RegExp(
        `^Error: --ulimit nofile=1024:${above}: a hard limit of ${above} is above den's own \\(${own}\\), and den may not raise it \\(it lacks CAP_SYS_RESOURCE\\)\\nHint: ask for at most ${own}`,
      ),
    );
    assert.deepEqual(env.containerDirs(), []);
    // Up to den's own it works, and -1 (unlimited) is refused the same way.
    const atOwn = env.den([
      'run',
      '--rm',
      '--ulimit',
      `nofile=512:${own}`,
      'busybox',
      'sh',
      '-c',
      'ulimit -n; ulimit -Hn',
    ]);
    assert.equal(atOwn.stdout, `512\n${own}\n`, atOwn.stderr);
    assertRefused(
      env.den(['run', '--rm', '--ulimit', 'nofile=1024:-1', 'busybox', 'true']),
      /a hard limit of unlimited/,
    );
  });

  test("inspect: HostConfig's limits in docker's schema", () => {
    const created = env.den([
      'create',
      '--name',
      'limited',
      '-m',
      '64m',
      '--memory-reservation',
      '32m',
      '--cpus',
      '1.5',
      '-c',
      '512',
      '--cpuset-cpus',
      '0',
      '--pids-limit',
      '50',
      '--ulimit',
      'nproc=100',
      '--ulimit',
      'nofile=1024:2048',
      'busybox',
      'true',
    ]);
    assert.equal(created.status, 0, created.stderr);
    const hostConfig = (name: string) => {
      const r = env.den(['inspect', '-f', '{{json .HostConfig}}', name]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const pick = (h: Record<string, unknown>) =>
      Object.fromEntries(
        [
          'Memory',
          'MemorySwap',
          'MemoryReservation',
          'NanoCpus',
          'CpuShares',
          'CpusetCpus',
          'PidsLimit',
          'Ulimits',
        ].map((k) => [k, h[k]]),
      );
    assert.deepEqual(pick(hostConfig('limited')), {
      Memory: 64 * MiB,
      MemorySwap: 128 * MiB,
      MemoryReservation: 32 * MiB,
      NanoCpus: 1_500_000_000,
      CpuShares: 512,
      CpusetCpus: '0',
      PidsLimit: 50,
      Ulimits: [
        { Name: 'nofile', Hard: 2048, Soft: 1024 },
        { Name: 'nproc', Hard: 100, Soft: 100 },
      ],
    });
    assert.equal(env.den(['create', '--name', 'plain', '--pids-limit', '0', 'busybox', 'true']).status, 0);
    assert.deepEqual(pick(hostConfig('plain')), {
      Memory: 0,
      MemorySwap: 0,
      MemoryReservation: 0,
      NanoCpus: 0,
      CpuShares: 0,
      CpusetCpus: '',
      PidsLimit: null,
      Ulimits: null,
    });
    assert.equal(
      env.den(['create', '--name', 'noswap', '-m', '64m', '--memory-swap', '-1', 'busybox', 'true']).status,
      0,
    );
    assert.equal(hostConfig('noswap').MemorySwap, -1);
    assert.equal(env.den(['rm', 'limited', 'plain', 'noswap']).status, 0);
  });

  test('den system check reports the cgroup layout and the controllers limits use', () => {
    const r = env.den(['system', 'check']);
    assert.match(
      r.stdout,
      /\nok +cgroup-limits +as root: cgroup (v2|v1 \((hybrid|v1) layout\)), controllers memory cpu cpuset pids; containers' cgroups under \/den\n/,
    );
  });
});

describe('resource limits, rootless', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => env.cleanup());

  test('--ulimit needs no cgroup: the container gets it', () => {
    const r = env.den(['run', '--rm', '--ulimit', 'nofile=512:1024', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '512\n1024\n');
  });

  test('values that set no limit (0, -1) need no cgroup either', () => {
    const r = env.den(['run', '--rm', '--pids-limit', '0', '--memory-swap', '-1', '-c', '0', 'busybox', 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  test(
    'without a delegated cgroup v2: refused before anything is made, naming what is missing',
    { skip: v2 ? 'this host has cgroup v2: whether it is delegated is the next test' : false },
    () => {
      for (const args of [
        ['-m', '64m'],
        ['--cpus', '1', '--pids-limit', '10'],
      ]) {
        const r = env.den(['run', '--rm', ...args, 'busybox', 'true']);
        assertRefused(
          r,
          /^Error: (--memory needs|--cpus, --pids-limit need) a cgroup of the container's own, and rootless den has none to give: this host keeps its cgroup controllers on cgroup v1 \((hybrid|v1) layout\), where only root may make cgroups\nHint: run as root, or boot the host with cgroup v2 only/,
        );
        assertRefused(env.den(['create', ...args, 'busybox', 'true']), /rootless den has none to give/);
      }
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
      assert.deepEqual(env.containerDirs(), []);
      assert.deepEqual(env.strayProcesses(), []);
      const check = env.den(['system', 'check']);
      assert.match(
        check.stdout,
        /\nwarn +cgroup-limits +rootless: none: this host keeps its cgroup controllers on cgroup v1/,
      );
    },
  );

  /**
   * A cgroup v2 delegated to the test user as an administrator would (chowned, the user's den
   * started inside a child of it), named by DEN_CGROUP_PARENT and found from den's own cgroup.
   *
   * On a cgroup v2 host with memory and pids, den must place the container there with its limits.
   * On this development host (hybrid) every controller is bound to a v1 hierarchy: memory's holds
   * cgroups of the machine's own, so it cannot move, and a controller moved to the cgroup2 makes
   * crun refuse every root container on the machine. So here den runs in a mount namespace where
   * /sys/fs/cgroup is the cgroup2 hierarchy (the layout a v2 host has), with a real delegated
   * cgroup in it, and must find it and refuse for the reason that remains: it has no controllers.
   */
  test('a delegated cgroup v2 set up by root for the test user', { timeout: 60_000 }, () => {
    const v2Root = layout.unified;
    if (!v2Root) return; // v1 only: no cgroup2 to delegate (the test above covers the refusal)
    const name = `den-limits-test-${process.pid}`;
    const dir = `${v2Root}/${name}`;
    const shell = `${dir}/shell`;
    const controllers = readFileSync(`${v2Root}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
    const usable = controllers.includes('memory') && controllers.includes('pids');
    mkdirSync(shell, { recursive: true });
    try {
      for (const d of [dir, shell]) {
        for (const f of ['', '/cgroup.procs', '/cgroup.subtree_control', '/cgroup.threads']) {
          chownSync(`${d}${f}`, env.user.uid, env.user.gid);
        }
      }
      if (usable) spawnSync('sh', ['-c', `echo '+memory +pids' > ${v2Root}/cgroup.subtree_control`]);
      // Root moves the shell that becomes den into the delegated cgroup (the user may not move it
      // out of root's), and on a hybrid host mounts the cgroup2 where a v2 host has it.
      const inDelegated = (args: string[], extraEnv: Record<string, string> = {}) => {
        const mount = v2 ? '' : 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && ';
        const script = `${mount}echo $$ > /sys/fs/cgroup/${name}/shell/cgroup.procs && exec "$@"`;
        const argv = env.wrap([...denCommand(), ...args], extraEnv);
        const r = spawnSync(v2 ? 'sh' : 'unshare', [...(v2 ? [] : ['-m', 'sh']), '-c', script, 'sh', ...argv], {
          encoding: 'utf8',
          timeout: 60_000,
          cwd: env.root,
        });
        return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
      };
      const script = 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max';
      const limited = ['run', '--rm', '-m', '64m', '--pids-limit', '20', 'busybox', 'sh', '-c', script];
      const named = inDelegated(limited, { DEN_CGROUP_PARENT: `/${name}` });
      const found = inDelegated(limited);
      if (usable) {
        for (const r of [named, found]) {
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout, `${64 * MiB}\n20\n`);
        }
        assert.deepEqual(
          spawnSync('find', [dir, '-mindepth', '1', '-type', 'd'], { encoding: 'utf8' })
            .stdout.trim()
            .split('\n')
            .sort(),
          [`${dir}/den`, shell],
          "the containers' cgroups are gone",
        );
      } else {
        assertRefused(
          named,
          new RegExp(
            `^Error: --memory, --pids-limit need a cgroup of the container's own, and rootless den has none to give: DEN_CGROUP_PARENT=/${name} has no controllers \\(its parent enables none in cgroup.subtree_control\\)\\nHint: as root, enable them for it: echo '\\+memory`,
          ),
        );
        assertRefused(
          found,
          new RegExp(
            `rootless den has none to give: the cgroups delegated to ${env.user.name} \\(/${name}/shell, /${name}\\) give a child cgroup no controllers: /${name} has no controllers`,
          ),
        );
        const check = inDelegated(['system', 'check']);
        assert.match(
          check.stdout,
          new RegExp(
            `\\nwarn +cgroup-limits +rootless: none: the cgroups delegated to ${env.user.name} \\(/${name}/shell, /${name}\\)`,
          ),
        );
        assert.deepEqual(env.containerDirs(), []);
      }
    } finally {
      for (const d of [`${dir}/den`, shell, dir]) {
        try {
          rmdirSync(d);
        } catch {
          // not made (den/), or already gone
        }
      }
    }
  });
});
