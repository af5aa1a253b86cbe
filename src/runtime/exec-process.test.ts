import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildExecProcess, type ExecProcessInput } from './exec-process.js';
import { allCapabilities } from './capabilities.js';
import { buildOciSpec, DEFAULT_CAPABILITIES, ociConfigJson } from './spec.js';

const container = buildOciSpec({
  args: ['sleep', '100'],
  env: ['PATH=/bin'],
  cwd: '/',
  uid: 0,
  gid: 0,
  additionalGids: [],
  terminal: false,
  hostname: 'box',
  rootfs: '/r',
  readOnlyRootfs: false,
  networkNamespace: 'new',
  etcFiles: { hostname: '/h', hosts: '/hs', resolvConf: '/rc' },
  binds: [],
  rootless: true,
  noNewPrivileges: true, // --security-opt no-new-privileges: the exec must keep it
});

const input: ExecProcessInput = {
  args: ['id'],
  env: ['PATH=/bin', 'A=1'],
  cwd: '/tmp',
  uid: 0,
  gid: 0,
  additionalGids: [10],
  terminal: false,
  privileged: false,
  rlimits: [],
};

type Process = { capabilities: Record<string, string[]>; noNewPrivileges?: boolean; [k: string]: unknown };

test("an exec'd process takes the container's confinement and the caller's command, user and directory", () => {
  const withProfile = { ...container, process: { ...(container.process as object), apparmorProfile: 'den-default' } };
  const nofile = { type: 'RLIMIT_NOFILE', soft: 1024n, hard: 2n ** 64n - 1n };
  const p = buildExecProcess(withProfile, { ...input, rlimits: [nofile] }) as Process;
  assert.deepEqual(p.args, ['id']);
  assert.deepEqual(p.env, ['PATH=/bin', 'A=1']);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [10] });
  assert.equal(p.noNewPrivileges, true);
  assert.equal(p.apparmorProfile, 'den-default');
  assert.deepEqual(p.rlimits, [nofile]);
  assert.match(ociConfigJson(p), /"hard":18446744073709551615\}/, 'written whole');
  assert.deepEqual(p.capabilities.effective, DEFAULT_CAPABILITIES);
  assert.equal('consoleSize' in p, false);
});

test('a non-root user gets only the bounding set; --privileged gives every capability the kernel has', () => {
  const user = buildExecProcess(container, { ...input, uid: 1000 }) as Process;
  assert.deepEqual(user.capabilities.effective, []);
  assert.deepEqual(user.capabilities.bounding, DEFAULT_CAPABILITIES);
  const privileged = buildExecProcess(container, { ...input, privileged: true }) as Process;
  assert.ok(privileged.capabilities.effective!.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(privileged.capabilities.effective, allCapabilities());
});

test('a container without no-new-privileges gives none to its exec; a terminal takes its size', () => {
  const open = { ...container, process: { ...(container.process as object), noNewPrivileges: false } };
  const p = buildExecProcess(open, { ...input, terminal: true, consoleSize: { height: 30, width: 100 } }) as Process;
  assert.equal(p.noNewPrivileges, false);
  assert.equal('rlimits' in p, false, 'without --ulimit every rlimit is inherited');
  assert.equal(p.terminal, true);
  assert.deepEqual(p.consoleSize, { height: 30, width: 100 });
});

test('all capabilities stop at the kernel last one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-caps-'));
  try {
    const file = join(dir, 'cap_last_cap');
    writeFileSync(file, '37\n');
    const caps = allCapabilities(file);
    assert.equal(caps.length, 38);
    assert.equal(caps.at(-1), 'CAP_AUDIT_READ');
    writeFileSync(file, '63\n');
    assert.equal(allCapabilities(file).at(-1), 'CAP_CHECKPOINT_RESTORE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
