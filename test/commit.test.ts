/**
 * `den diff` and `den commit`, as the test user and as root: the changes a container made, read
 * from its overlay's upper directory (added, changed, deleted, a directory replaced whole, the
 * runtime's mount points left out), and those changes as a new image that runs, with the owners the
 * container gave its files (through an --userns=auto map), and that skopeo reads from `den save`
 * with the same digests.
 */
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/** Changes in the busybox image, and the `den diff` docker would print for them, in its order. */
const CHANGES = [
  'echo new > /tmp/new',
  'echo more >> /etc/passwd',
  'rm /etc/group',
  'mkdir -p /var/lib/x',
  'rm -rf /home/user && mkdir /home/user && echo f > /home/user/f && chown 1000:1000 /home/user/f',
  'chmod 755 /root',
].join(' && ');

const DIFF = [
  'C /etc',
  'D /etc/group',
  'C /etc/passwd',
  'C /home',
  'C /home/user',
  'A /home/user/f',
  'C /root',
  'C /tmp',
  'A /tmp/new',
  'C /var',
  'A /var/lib',
  'A /var/lib/x',
  '',
].join('\n');

for (const user of ['dentest', 'root'] as const) {
  describe(`den diff and den commit as ${user}`, () => {
    let env: DenEnv;
    before(() => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
    });
    after(() => env.cleanup());

    for (const userns of ['host', 'auto']) {
      test(`--userns=${userns}: diff lists what the container changed, commit makes an image of it that runs`, () => {
        const name = `ch-${userns}`;
        const made = env.den(['run', '--name', name, `--userns=${userns}`, 'busybox', 'sh', '-c', CHANGES]);
        assert.equal(made.status, 0, made.stderr);
        const diff = env.den(['diff', name]);
        assert.equal(diff.status, 0, diff.stderr);
        assert.equal(diff.stdout, DIFF);
        const image = `committed/${userns}:1`;
        const commit = env.den([
          'commit',
          '-a',
          'Den Test <test@example.com>',
          '-m',
          'the changes',
          '-c',
          'CMD ["cat", "/tmp/new"]',
          '--change',
          'ENV FOO=bar',
          name,
          image,
        ]);
        assert.equal(commit.status, 0, commit.stderr);
        const id = commit.stdout.trim();
        assert.match(id, /^sha256:[0-9a-f]{64}$/);
        assert.equal(env.den(['inspect', '--format', '{{.Id}}', image]).stdout.trim(), id);
        const run = env.den(['run', '--rm', image]);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, 'new\n', 'the new CMD, and the file the container made');
        const seen = env.den([
          'run',
          '--rm',
          `--userns=${userns}`,
          image,
          'sh',
          '-c',
          'ls /etc/group 2>&1; tail -n 1 /etc/passwd; ls -A /home/user; stat -c "%u:%g %a" /home/user/f /root; echo $FOO',
        ]);
        assert.equal(seen.status, 0, seen.stderr);
        assert.equal(
          seen.stdout,
          ['ls: /etc/group: No such file or directory', 'more', 'f', '1000:1000 644', '0:0 755', 'bar', ''].join('\n'),
        );
        assert.equal(
          env.den(['inspect', '--format', '{{.Author}}|{{len .RootFS.Layers}}', image]).stdout,
          'Den Test <test@example.com>|2\n',
        );
        const history = env
          .den(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', image])
          .stdout.split('\n');
        assert.match(history[0]!, /^sh -c echo new > \/tmp\/new.*\|the changes$/);
        // A container of the new image starts with no changes of its own.
        assert.equal(env.den(['create', '--name', `${name}-2`, image]).status, 0);
        assert.equal(env.den(['diff', `${name}-2`]).stdout, '');
        assert.equal(env.den(['rm', `${name}-2`, name]).status, 0);
      });
    }

    test('a container without changes: no layer, an empty_layer history entry', () => {
      assert.equal(env.den(['create', '--name', 'same', 'busybox', 'true']).status, 0);
      assert.equal(env.den(['diff', 'same']).stdout, '');
      const commit = env.den(['commit', 'same']);
      assert.equal(commit.status, 0, commit.stderr);
      const id = commit.stdout.trim();
      assert.equal(env.den(['inspect', '--format', '{{len .RootFS.Layers}}', id]).stdout, '1\n');
      assert.equal(env.den(['rm', 'same']).status, 0);
    });

    test('a running container: diff and commit read its changes as they are, frozen where it has a freezer', async () => {
      const run = env.den([
        'run',
        '-d',
        '--name',
        'busy',
        'busybox',
        'sh',
        '-c',
        'echo r > /tmp/r; while :; do sleep 0.2; done',
      ]);
      assert.equal(run.status, 0, run.stderr);
      try {
        let diff = '';
        for (let i = 0; i < 300 && diff === ''; i++) {
          diff = env.den(['diff', 'busy']).stdout;
          if (diff === '') await sleep(100);
        }
        assert.equal(diff, 'C /tmp\nA /tmp/r\n');
        const commit = env.den(['commit', 'busy', 'busy:1']);
        assert.equal(commit.status, 0, commit.stderr);
        if (user === 'root') {
          // The freezer (cgroup v1's, or v2's) holds the container still while its files are read.
          assert.equal(commit.stderr, '');
        } else {
          // Rootless on a host without a delegated cgroup v2 there is no freezer: den says so.
          assert.match(commit.stderr, /cannot pause busy \(.*\): committing its files as they are while it runs/);
        }
        assert.equal(env.den(['inspect', '-f', '{{.State.Status}}', 'busy']).stdout, 'running\n', 'running after');
        assert.equal(env.den(['exec', 'busy', 'cat', '/tmp/r']).stdout, 'r\n', 'thawed: it still answers');
        assert.equal(env.den(['run', '--rm', 'busy:1', 'cat', '/tmp/r']).stdout, 'r\n');
      } finally {
        assert.equal(env.den(['rm', '-f', 'busy']).status, 0);
      }
    });

    test('deleting a whole directory is one D', () => {
      const made = env.den(['run', '--name', 'rmdir', 'busybox', 'rm', '-rf', '/home']);
      assert.equal(made.status, 0, made.stderr);
      assert.equal(env.den(['diff', 'rmdir']).stdout, 'D /home\n');
      assert.equal(env.den(['rm', 'rmdir']).status, 0);
    });

    test('den save of a committed image: skopeo reads it with the same digests', () => {
      const made = env.den(['run', '--name', 'tosave', 'busybox', 'sh', '-c', 'echo saved > /saved && echo "<&>"']);
      assert.equal(made.status, 0, made.stderr);
      // A message, an author and a command with `>`: skopeo's conversion to OCI writes the config again.
      const commit = env.den(['commit', '-a', 'Den <d@example.com>', '-m', 'saved & kept', 'tosave', 'saved:1']);
      assert.equal(commit.status, 0, commit.stderr);
      const id = commit.stdout.trim();
      const dir = mkdtempSync(join(env.root, 'save-'));
      chownSync(dir, env.user.uid, env.user.gid);
      const archive = join(dir, 'saved.tar');
      const saved = env.den(['save', '-o', archive, 'saved:1']);
      assert.equal(saved.status, 0, saved.stderr);
      const layers = JSON.parse(env.den(['inspect', '--format', '{{json .RootFS.Layers}}', 'saved:1']).stdout);
      // skopeo verifies every blob against the manifest while it copies.
      const copied = env.exec(['skopeo', 'copy', '-q', `docker-archive:${archive}`, `oci:${join(dir, 'oci')}:saved`]);
      assert.equal(copied.status, 0, copied.stderr);
      const raw = JSON.parse(env.exec(['skopeo', 'inspect', '--raw', `oci:${join(dir, 'oci')}:saved`]).stdout);
      assert.equal(raw.config.digest, id, 'the image id is the config digest skopeo sees');
      const config = JSON.parse(env.exec(['skopeo', 'inspect', '--config', `oci:${join(dir, 'oci')}:saved`]).stdout);
      assert.deepEqual(config.rootfs.diff_ids, layers);
      const blob = readFileSync(join(dir, 'oci', 'blobs', 'sha256', raw.layers[1].digest.slice(7)));
      assert.ok(blob.length > 0);
      assert.equal(env.den(['rm', 'tosave']).status, 0);
    });

    test('errors: no such container, a bad --change, a bad name; exit 1', () => {
      const none = env.den(['commit', 'nosuch']);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /no such container: nosuch/);
      assert.equal(env.den(['diff', 'nosuch']).status, 1);
      assert.equal(env.den(['create', '--name', 'errs', 'busybox', 'true']).status, 0);
      const images = env.den(['images', '-q']).stdout;
      const change = env.den(['commit', '-c', 'FROM scratch', 'errs']);
      assert.equal(change.status, 1);
      assert.match(change.stderr, /--change "FROM scratch": FROM is not supported/);
      const badName = env.den(['commit', 'errs', 'Bad:Name:x']);
      assert.equal(badName.status, 1);
      assert.equal(env.den(['images', '-q']).stdout, images, 'no image was made');
      assert.equal(env.den(['rm', 'errs']).status, 0);
    });
  });
}
