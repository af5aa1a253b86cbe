import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../../common/errors.js';
import { allCapabilities, DEFAULT_CAPABILITIES } from '../../runtime/index.js';
import { parseSecurity, planSecurity, type SecurityFlags } from './security.js';

const noFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};
const ALL = allCapabilities();
const WITHOUT_SYS_RESOURCE = ALL.filter((c) => c !== 'CAP_SYS_RESOURCE');

function caps(flags: SecurityFlags, bounding: readonly string[] = ALL): string[] {
  const spec = parseSecurity(flags, noFile);
  return planSecurity(spec, { rootless: true, runtime: 'crun', layersTopFirst: [], apparmor: false, bounding }).security
    .capabilities;
}

test("capabilities follow docker's rules: default set, drops, adds winning, ALL both ways, privileged", () => {
  const without = (...names: string[]) => DEFAULT_CAPABILITIES.filter((c) => !names.includes(c));
  const cases: [SecurityFlags, string[]][] = [
    [{}, [...DEFAULT_CAPABILITIES]],
    [{ capDrop: ['chown', 'CAP_KILL'] }, without('CAP_CHOWN', 'CAP_KILL')],
    [{ capAdd: ['net_admin'] }, [...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN']],
    [{ capAdd: ['CHOWN'] }, [...DEFAULT_CAPABILITIES]],
    [{ capDrop: ['ALL'] }, []],
    [{ capDrop: ['all'], capAdd: ['chown', 'Net_Raw'] }, ['CAP_CHOWN', 'CAP_NET_RAW']],
    [{ capAdd: ['chown'], capDrop: ['chown'] }, [...without('CAP_CHOWN'), 'CAP_CHOWN']],
    [{ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }, ALL.filter((c) => c !== 'CAP_SYS_ADMIN')],
    [{ privileged: true, capDrop: ['ALL'] }, ALL],
  ];
  for (const [flags, expected] of cases) assert.deepEqual(caps(flags), expected, JSON.stringify(flags));
  // What den itself lacks: privileged and ALL leave it out, an add of it by name is refused.
  assert.deepEqual(caps({ privileged: true }, WITHOUT_SYS_RESOURCE), WITHOUT_SYS_RESOURCE);
  assert.deepEqual(caps({ capAdd: ['ALL'] }, WITHOUT_SYS_RESOURCE), WITHOUT_SYS_RESOURCE);
  assert.throws(
    () => caps({ capAdd: ['sys_resource'] }, WITHOUT_SYS_RESOURCE),
    (e: unknown) => e instanceof DenError && e.code === 'DEN1304',
  );
});

test('--security-opt forms, and the bad ones refused with what den takes', () => {
  const parse = (...opts: string[]) => parseSecurity({ securityOpt: opts }, () => '{"defaultAction":"SCMP_ACT_ALLOW"}');
  assert.equal(parse().noNewPrivileges, false);
  assert.equal(parse('no-new-privileges').noNewPrivileges, true);
  assert.equal(parse('no-new-privileges:true', 'no-new-privileges=false').noNewPrivileges, false, 'the last wins');
  assert.equal(parse('seccomp=unconfined').seccomp, 'unconfined');
  assert.deepEqual(parse('seccomp=/p.json').seccomp, { text: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  assert.deepEqual(parse('label=disable', 'label=type:spc_t', 'apparmor=unconfined').securityOpt, [
    'label=disable',
    'label=type:spc_t',
    'apparmor=unconfined',
  ]);
  for (const [opt, code] of [
    ['bogus', 'DEN1305'],
    ['seccomp', 'DEN1305'],
    ['no-new-privileges=yes', 'DEN1305'],
    ['label=sideways', 'DEN1305'],
    ['apparmor=', 'DEN1305'],
  ] as const) {
    assert.throws(
      () => parse(opt),
      (e: unknown) => e instanceof DenError && e.code === code,
      opt,
    );
  }
  assert.throws(
    () => parseSecurity({ securityOpt: ['seccomp=/missing.json'] }, noFile),
    (e: unknown) => e instanceof DenError && e.code === 'DEN1306' && e.message.includes('cannot read'),
  );
  assert.throws(
    () => parseSecurity({ securityOpt: ['seccomp=/p.json'] }, () => '[1, 2]'),
    (e: unknown) => e instanceof DenError && e.code === 'DEN1306' && e.message.includes('not a seccomp profile'),
  );
});

test('apparmor= is applied only where the host enforces AppArmor; keep-groups only rootless with crun', () => {
  const spec = parseSecurity({ securityOpt: ['apparmor=den-test'], groupAdd: ['keep-groups'] }, noFile);
  const base = { rootless: true, runtime: 'crun' as const, layersTopFirst: [], bounding: ALL };
  assert.equal(planSecurity(spec, { ...base, apparmor: true }).security.apparmorProfile, 'den-test');
  assert.equal(planSecurity(spec, { ...base, apparmor: false }).security.apparmorProfile, undefined);
  assert.equal(planSecurity(spec, { ...base, apparmor: false }).security.keepGroups, true);
  for (const ctx of [
    { ...base, rootless: false },
    { ...base, runtime: 'runc' as const },
  ]) {
    assert.throws(
      () => planSecurity(spec, ctx),
      (e: unknown) => e instanceof DenError && e.code === 'DEN1309',
    );
  }
  assert.throws(
    () => parseSecurity({ groupAdd: ['keep-groups', '10'] }, noFile),
    (e: unknown) => e instanceof DenError && e.code === 'DEN1308',
  );
});
