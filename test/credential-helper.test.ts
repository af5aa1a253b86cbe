import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { helperCalls, helperStore, writeStoreHelper, type StoreHelper } from './credential-helper-fixture.js';
import { DenEnv } from './harness.js';
import { buildLayout, RegistryHarness, TEST_USER, type TestRegistry } from './registry-server.js';

/**
 * `den login`, `den pull` and `den logout` as the unprivileged test user with docker's
 * `"credsStore"` naming a real credential helper (test/credential-helper-fixture.ts) in PATH,
 * against a real registry over https with htpasswd: the secret lives in the helper, never in
 * config.json, and never in den's output.
 */
describe('a docker credential helper, end to end', () => {
  let env: DenEnv;
  let harness: RegistryHarness;
  let secure: TestRegistry;
  let helper: StoreHelper;
  let bin: string;
  let config: string;
  let caDir: string;
  // The harness's PATH, with the helper's directory first.
  const withHelper = () => ({ PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` });
  const secretShown = (text: string) =>
    text.includes(TEST_USER.password) ||
    text.includes(Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString('base64'));

  before(async () => {
    env = new DenEnv();
    harness = new RegistryHarness();
    // The test user reads the CA certificate from the harness's directory.
    chmodSync(harness.dir, 0o755);
    caDir = harness.certificates().caDir;
    secure = await harness.start({ tls: true, auth: 'htpasswd' });
    const image = buildLayout(join(harness.dir, 'layout'));
    await harness.skopeoCopy(`oci:${image.dir}:${image.tag}`, `docker://${secure.name}/busybox:latest`, secure);

    // The helper and the JSON file it keeps belong to the test user, as a user's own helper would.
    bin = join(env.root, 'helper-bin');
    helper = writeStoreHelper(bin, 'dentest');
    chownSync(bin, env.user.uid, env.user.gid);
    const dockerDir = join(env.home, '.docker');
    mkdirSync(dockerDir, { mode: 0o700 });
    config = join(dockerDir, 'config.json');
    writeFileSync(config, `${JSON.stringify({ credsStore: 'dentest', psFormat: 'table {{.ID}}' })}\n`, { mode: 0o600 });
    for (const path of [dockerDir, config]) chownSync(path, env.user.uid, env.user.gid);
  });
  after(async () => {
    env.cleanup();
    await harness.cleanup();
  });

  test('login stores through the helper, pull uses its credentials, logout erases them', async () => {
    const ref = `${secure.name}/busybox`;
    const login = await env.denAsync(
      ['login', '--tls-verify', '--cert-dir', caDir, '--username', TEST_USER.username, '--password-stdin', secure.name],
      { env: withHelper(), input: `${TEST_USER.password}\n` },
    );
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assert.ok(!secretShown(login.stdout + login.stderr), 'login never prints the password');
    assert.deepEqual(helperStore(helper), {
      [secure.name]: { Username: TEST_USER.username, Secret: TEST_USER.password },
    });
    const text = readFileSync(config, 'utf8');
    assert.ok(!secretShown(text), `no secret in config.json: ${text}`);
    assert.deepEqual(JSON.parse(text), {
      auths: { [secure.name]: {} },
      credsStore: 'dentest',
      psFormat: 'table {{.ID}}',
    });

    const pulled = await env.denAsync(['pull', '--tls-verify', '--cert-dir', caDir, ref], { env: withHelper() });
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.ok(!secretShown(pulled.stdout + pulled.stderr));
    assert.ok(helperCalls(helper).includes(`get ${secure.name}`), 'the pull asked the helper');

    // Without the helper in PATH, a pull says which helper is missing, for which registry, and the fix.
    const missing = await env.denAsync(['pull', '--tls-verify', '--cert-dir', caDir, ref]);
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr,
      new RegExp(`docker-credential-dentest \\(registry ${secure.name}\\): not found in PATH`),
    );
    assert.match(missing.stderr, /remove "credsStore" from .*config\.json/);

    const logout = await env.denAsync(['logout', secure.name], { env: withHelper() });
    assert.equal(logout.status, 0, logout.stderr);
    assert.match(logout.stdout, new RegExp(`Removing login credentials for ${secure.name}`));
    assert.deepEqual(helperStore(helper), {});
    assert.ok(helperCalls(helper).includes(`erase ${secure.name}`));
    assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')).auths, {});
    const again = await env.denAsync(['logout', secure.name], { env: withHelper() });
    assert.match(again.stdout, new RegExp(`Not logged in to ${secure.name}`));

    const refused = await env.denAsync(['pull', '--tls-verify', '--cert-dir', caDir, ref], { env: withHelper() });
    assert.equal(refused.status, 1, 'logged out, the pull is refused');
    assert.match(refused.stderr, /unauthorized|authentication required|401|pull access denied/i);
  });
});
