import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { resolveSeccomp } from './seccomp.js';
import { ociRlimit } from './rlimits.js';
import { buildOciSpec, DEFAULT_CAPABILITIES, ociConfigJson, type SpecInput } from './spec.js';

const GOLDEN = new URL('./testdata/config.golden.json', import.meta.url);

const input: SpecInput = {
  args: ['/bin/sh', '-c', 'echo hi'],
  env: ['PATH=/usr/bin:/bin', 'HOSTNAME=box'],
  cwd: '/work',
  uid: 0,
  gid: 0,
  additionalGids: [],
  terminal: true,
  consoleSize: { height: 24, width: 80 },
  hostname: 'box',
  rootfs: '/store/containers/c1/rootfs',
  readOnlyRootfs: false,
  networkNamespace: 'new',
  etcFiles: { hostname: '/b/hostname', hosts: '/b/hosts', resolvConf: '/b/resolv.conf' },
  binds: [{ source: '/home/me/src', destination: '/work', readOnly: true }],
  rootless: true,
};

test('the OCI config matches the golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
  const spec = JSON.stringify(buildOciSpec(input), null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, spec);
  assert.equal(spec, readFileSync(GOLDEN, 'utf8'));
});

test('root gets Docker capabilities, another user only the bounding set', () => {
  const root = buildOciSpec(input) as { process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean } };
  assert.deepEqual(root.process.capabilities.effective, DEFAULT_CAPABILITIES);
  assert.equal(root.process.noNewPrivileges, false, 'opt-in, as in docker: forced on, it breaks sudo and su');
  const user = buildOciSpec({ ...input, uid: 1000, gid: 1000 }) as typeof root;
  assert.deepEqual(user.process.capabilities.effective, []);
  assert.deepEqual(user.process.capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.equal('rlimits' in (root.process as object), false, 'rlimits are inherited, never raised');
});

test('limits: the cgroup, its resources and the rlimits asked for; RLIM_INFINITY written exactly', () => {
  const spec = buildOciSpec({
    ...input,
    cgroupsPath: '/den/c1',
    resources: { memory: { limit: 67108864, swap: 134217728 }, pids: { limit: 50 } },
    rlimits: [ociRlimit('nofile', 1024, -1)],
  });
  const text = ociConfigJson(spec);
  assert.match(text, /"rlimits":\[\{"type":"RLIMIT_NOFILE","soft":1024,"hard":18446744073709551615\}\]/);
  assert.match(
    text,
    /"cgroupsPath":"\/den\/c1","resources":\{"memory":\{"limit":67108864,"swap":134217728\},"pids":\{"limit":50\}\}/,
  );
  const none = buildOciSpec({ ...input, resources: {} }) as { linux: object };
  assert.equal('resources' in none.linux, false);
  assert.equal('cgroupsPath' in none.linux, false, "no path: the runtime's own choice");
  assert.equal(ociConfigJson(buildOciSpec(input)), JSON.stringify(buildOciSpec(input)));
});

test('the host network keeps the host sysfs read-only and adds no network namespace', () => {
  const spec = buildOciSpec({ ...input, networkNamespace: 'host' }) as {
    linux: { namespaces: { type: string }[] };
    mounts: { destination: string; type: string; options: string[] }[];
  };
  assert.equal(
    spec.linux.namespaces.some((n) => n.type === 'network'),
    false,
  );
  const sys = spec.mounts.find((m) => m.destination === '/sys')!;
  assert.equal(sys.type, 'bind');
  assert.ok(sys.options.includes('ro'));
});

test('a user namespace of its own carries its maps', () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const spec = buildOciSpec({ ...input, rootless: false, userns: { uidMappings: map, gidMappings: map } }) as {
    linux: { namespaces: { type: string }[]; uidMappings: unknown };
  };
  assert.ok(spec.linux.namespaces.some((n) => n.type === 'user'));
  assert.deepEqual(spec.linux.uidMappings, map);
});

test('seccomp rules are resolved against capabilities, architecture and kernel', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { names: ['s390_only'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390x'] } },
      { names: ['future'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
    ],
  };
  const out = resolveSeccomp(profile, ['CAP_SYS_CHROOT'], 'x64', '6.18.4');
  assert.deepEqual(out.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  const names = out.syscalls.map((s) => `${s.names[0]}:${s.action}`);
  assert.deepEqual(names, [
    'read:SCMP_ACT_ALLOW',
    'chroot:SCMP_ACT_ALLOW',
    'bpf:SCMP_ACT_ERRNO',
    'arch_prctl:SCMP_ACT_ALLOW',
  ]);
  assert.equal(out.defaultErrnoRet, 38);
});

test('poststop hooks go into the config as given, and no hooks key without any', () => {
  const hook = { path: '/bin/sh', args: ['sh', '-c', 'true'], env: ['PATH=/bin'] };
  const spec = buildOciSpec({ ...input, poststop: [hook] }) as { hooks?: { poststop: unknown[] } };
  assert.deepEqual(spec.hooks, { poststop: [hook] });
  assert.equal('hooks' in buildOciSpec(input), false);
  assert.equal('hooks' in buildOciSpec({ ...input, poststop: [] }), false);
});

test('confinement: chosen capabilities, no-new-privileges, a profile by text; privileged unmasks and binds devices', () => {
  type Spec = {
    process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean; apparmorProfile?: string };
    linux: {
      maskedPaths?: string[];
      readonlyPaths?: string[];
      seccomp?: { defaultAction: string };
      resources?: object;
    };
    mounts: { destination: string; type: string; options: string[] }[];
    annotations?: Record<string, string>;
  };
  const profile = JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  });
  const s = buildOciSpec({
    ...input,
    capabilities: ['CAP_CHOWN'],
    noNewPrivileges: true,
    seccomp: { text: profile },
    apparmorProfile: 'den-test',
    keepGroups: true,
  }) as Spec;
  assert.deepEqual(s.process.capabilities.effective, ['CAP_CHOWN']);
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.process.apparmorProfile, 'den-test');
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ALLOW');
  assert.equal(s.annotations?.['run.oci.keep_original_groups'], '1');
  assert.equal((buildOciSpec({ ...input }) as Spec).linux.seccomp, undefined, 'no profile given: none');
  const p = buildOciSpec({ ...input, privileged: true, devices: ['/dev/fuse'], seccomp: { text: profile } }) as Spec;
  assert.equal(p.linux.maskedPaths, undefined);
  assert.equal(p.linux.readonlyPaths, undefined);
  assert.equal(p.linux.seccomp, undefined);
  assert.deepEqual(
    p.mounts.find((m) => m.destination === '/dev/fuse'),
    {
      destination: '/dev/fuse',
      type: 'bind',
      source: '/dev/fuse',
      options: ['bind', 'rprivate'],
    },
  );
  assert.equal(p.mounts.find((m) => m.destination === '/sys')?.options.includes('ro'), false);
  assert.equal(p.linux.resources, undefined, 'rootless: no devices cgroup to open');
  const rootful = buildOciSpec({ ...input, rootless: false, privileged: true }) as Spec;
  assert.deepEqual(rootful.linux.resources, { devices: [{ allow: true, access: 'rwm' }] });
});
