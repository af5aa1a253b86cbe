/**
 * docker's contract, case by case: each row runs the built CLI (as the test user, rootless) and
 * checks what docker would print and its exit status. A row names docker's behaviour it holds den
 * to; the docker that was compared is 28.2 (flag errors, `version`), and its cli sources for rm/rmi.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, REPO, subuidBase } from './harness.js';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

interface Case {
  /** What docker does, in words. */
  name: string;
  args: string[];
  status: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
}

const EXIT_STATUSES: Case[] = [
  { name: 'a command that is not executable: 126', args: ['run', '--rm', 'busybox', '/etc/passwd'], status: 126 },
  {
    name: 'a command that is not executable, with runc: 126',
    args: ['run', '--rm', '--runtime', 'runc', 'busybox', '/etc/passwd'],
    status: 126,
  },
  {
    name: 'a directory as the command: 126',
    args: ['run', '--rm', 'busybox', '/etc'],
    status: 126,
    stderr: /OCI runtime crun failed: .*\/etc|open executable/,
  },
  {
    name: 'a directory as the command, with runc: 126',
    args: ['run', '--rm', '--runtime', 'runc', 'busybox', '/etc'],
    status: 126,
  },
  { name: 'a missing command: 127', args: ['run', '--rm', 'busybox', 'no-such-command'], status: 127 },
  {
    name: 'a missing command, with runc: 127',
    args: ['run', '--rm', '--runtime', 'runc', 'busybox', 'no-such-command'],
    status: 127,
  },
  { name: 'a missing absolute command: 127', args: ['run', '--rm', 'busybox', '/no/such/command'], status: 127 },
  {
    name: 'rm of a container that does not exist: 1',
    args: ['rm', 'nosuch'],
    status: 1,
    stdout: '',
    stderr: /no such container: nosuch/,
  },
  {
    name: 'rm -f of a container that does not exist: nothing, 0',
    args: ['rm', '-f', 'nosuch'],
    status: 0,
    stdout: '',
    stderr: '',
  },
  {
    name: 'rmi of an image that does not exist: 1',
    args: ['rmi', 'nosuch'],
    status: 1,
    stdout: '',
    stderr: /image nosuch: not found/,
  },
  {
    name: 'rmi -f of an image that does not exist: the error on stderr, 0',
    args: ['rmi', '-f', 'nosuch'],
    status: 0,
    stdout: '',
    stderr: /image nosuch: not found/,
  },
  {
    name: 'run of an image that does not exist: 125',
    args: ['run', '--rm', '--pull=never', 'nosuch', 'true'],
    status: 125,
  },
];

/**
 * The other commands: docker exits 1 when they fail (its daemon's errors and cobra's argument
 * checks are plain errors), 125 only for a flag it cannot parse, 64 for an inspect template that
 * does not parse; run and create keep 125 for their own failures but not for their argument count.
 */
const OTHER_COMMANDS: Case[] = [
  {
    name: 'pull without a name: 1, in docker 28 words',
    args: ['pull'],
    status: 1,
    stdout: '',
    stderr:
      "den: 'den pull' requires 1 argument\n\nUsage:  den pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nSee 'den pull --help' for more information\n",
  },
  {
    name: 'pull from a registry that is not there: 1',
    args: ['pull', '127.0.0.1:1/x'],
    status: 1,
    stderr: /cannot connect/,
  },
  { name: 'pull of an invalid reference: 1', args: ['pull', 'UPPER/case'], status: 1, stderr: /invalid reference/ },
  {
    name: 'pull with a flag docker lacks too: 125',
    args: ['pull', '--nosuch', 'x'],
    status: 125,
    stderr: "unknown flag: --nosuch\nSee 'den pull --help'.\n",
  },
  {
    name: 'inspect of what does not exist: 1, and an empty list',
    args: ['inspect', 'nosuch'],
    status: 1,
    stdout: '[]\n',
    stderr: /no such object: nosuch/,
  },
  {
    name: 'inspect without a name: 1',
    args: ['inspect'],
    status: 1,
    stderr: /^den: 'den inspect' requires at least 1 argument\n/,
  },
  {
    name: 'inspect with a template that does not parse: 64, nothing on stdout',
    args: ['inspect', '-f', '{{.Id', 'busybox'],
    status: 64,
    stdout: '',
    stderr: /template parsing error/,
  },
  {
    name: 'inspect with a template that fails on the object: 1',
    args: ['inspect', '-f', '{{index .Id 99}}', 'busybox'],
    status: 1,
    stderr: /template parsing error/,
  },
  {
    name: 'import of a file that is not there: 1',
    args: ['import', '/nonexistent.tar', 'x'],
    status: 1,
    stderr: /no such file/,
  },
  {
    name: 'import with three arguments: 1',
    args: ['import', 'a', 'b', 'c'],
    status: 1,
    stderr: /^den: 'den import' requires at least 1 and at most 2 arguments\n/,
  },
  {
    name: 'tag of an image that does not exist: 1',
    args: ['tag', 'nosuch', 'x'],
    status: 1,
    stderr: /image nosuch: not found/,
  },
  {
    name: 'tag with one argument: 1',
    args: ['tag', 'busybox'],
    status: 1,
    stderr: /^den: 'den tag' requires 2 arguments\n/,
  },
  {
    name: 'images --filter with a filter docker does not know: 1',
    args: ['images', '--filter', 'colour=red'],
    status: 1,
    stdout: '',
    stderr: /invalid filter "colour"/,
  },
  {
    name: 'images --filter that is not name=value: a flag error, 125',
    args: ['images', '--filter', 'colour'],
    status: 125,
    stdout: '',
    stderr:
      'invalid argument "colour" for "-f, --filter" flag: bad format of filter (expected name=value)\nSee \'den images --help\'.\n',
  },
  {
    name: 'images with two arguments: 1',
    args: ['images', 'a', 'b'],
    status: 1,
    stderr: /requires at most 1 argument/,
  },
  {
    name: 'rmi without an image: 1',
    args: ['rmi'],
    status: 1,
    stderr: /^den: 'den rmi' requires at least 1 argument\n/,
  },
  {
    name: 'rm without a container: 1',
    args: ['rm'],
    status: 1,
    stderr: /^den: 'den rm' requires at least 1 argument\n/,
  },
  { name: 'history of an image that does not exist: 1', args: ['history', 'nosuch'], status: 1 },
  { name: 'save of an image that does not exist: 1', args: ['save', '-o', '/dev/null', 'nosuch'], status: 1 },
  { name: 'push of an image that does not exist: 1', args: ['push', 'nosuch'], status: 1, stderr: /not found/ },
  { name: 'export of a container that does not exist: 1', args: ['export', 'nosuch'], status: 1 },
  { name: 'load of a file that is not there: 1', args: ['load', '-i', '/nonexistent.tar'], status: 1 },
  { name: 'ps with an argument: 1', args: ['ps', 'x'], status: 1, stderr: /^den: 'den ps' accepts no arguments\n/ },
  { name: 'ps with a template that does not parse: 1', args: ['ps', '--format', '{{.ID'], status: 1, stdout: '' },
  { name: 'a command den does not have: 1', args: ['frobnicate'], status: 1, stderr: /is not a den command/ },
  {
    name: 'run without an image: 1, as docker (cobra checks the count before run does anything)',
    args: ['run'],
    status: 1,
    stderr:
      /^den: 'den run' requires at least 1 argument\n\nUsage:  den run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n/,
  },
  { name: 'create without an image: 1', args: ['create'], status: 1, stderr: /requires at least 1 argument/ },
  { name: 'create of an image that is not there: 125', args: ['create', '--pull=never', 'nosuch'], status: 125 },
];

/** Node 20 scans its whole command line for some options (--env-file); none after den's may reach it. */
const NODE_OPTIONS_AFTER_THE_IMAGE: string[][] = [
  ['--env-file', '/only/in/container'],
  ['--env-file=/only/in/container'],
  ['--env-file-if-exists', '/only/in/container'],
  ['--inspect'],
  ['--require', '/only/in/container'],
  ['-r', '/only/in/container'],
  ['-e', 'process.exit(3)'],
  ['--eval=process.exit(3)'],
  ['-p', '1'],
  ['--test'],
  ['--', '--env-file', '/only/in/container'],
];

const FLAGS: Case[] = [
  {
    name: 'a docker flag den lacks says so: --sysctl',
    args: ['run', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'true'],
    status: 125,
    stdout: '',
    stderr: "unknown flag: --sysctl: docker's --sysctl is not supported by den yet\nSee 'den run --help'.\n",
  },
  {
    name: 'a docker flag den lacks, with its value attached',
    args: ['create', '--storage-opt=size=1g', 'busybox'],
    status: 125,
    stderr:
      "unknown flag: --storage-opt: docker's --storage-opt is not supported by den yet\nSee 'den create --help'.\n",
  },
  {
    name: "a malformed value of a typed flag: docker's words for the flag and the value",
    args: ['create', '--memory=1q', 'busybox'],
    status: 125,
    stdout: '',
    stderr: 'invalid argument "1q" for "-m, --memory" flag: invalid suffix: \'q\'\nSee \'den create --help\'.\n',
  },
  {
    name: 'a docker shorthand den lacks names its long form: -a',
    args: ['run', '-a', 'stdout', 'busybox'],
    status: 125,
    stderr:
      "unknown shorthand flag: 'a' in -a: docker's -a (--attach) is not supported by den yet\nSee 'den run --help'.\n",
  },
  {
    name: 'a docker shorthand den lacks, among combined ones: -ita',
    args: ['run', '-ita', 'busybox'],
    status: 125,
    stderr: /^unknown shorthand flag: 'a' in -ita: docker's -a \(--attach\) is not supported by den yet\n/,
  },
  {
    name: 'images --tree',
    args: ['images', '--tree'],
    status: 125,
    stderr: "unknown flag: --tree: docker's --tree is not supported by den yet\nSee 'den images --help'.\n",
  },
  {
    name: 'rm -l (docker has it, den not: links are legacy)',
    args: ['rm', '-l', 'x'],
    status: 125,
    stderr: /^unknown shorthand flag: 'l' in -l: docker's -l \(--link\) is not supported by den yet\n/,
  },
  {
    name: "a flag docker does not have either: docker's words",
    args: ['run', '--nosuch', 'busybox'],
    status: 125,
    stdout: '',
    stderr: "unknown flag: --nosuch\nSee 'den run --help'.\n",
  },
  {
    name: "a shorthand docker does not have either: docker's words",
    args: ['run', '-Z', 'busybox'],
    status: 125,
    stderr: "unknown shorthand flag: 'Z' in -Z\nSee 'den run --help'.\n",
  },
  {
    name: 'a flag of the management-command form names that form',
    args: ['image', 'ls', '--tree'],
    status: 125,
    stderr: "unknown flag: --tree: docker's --tree is not supported by den yet\nSee 'den images --help'.\n",
  },
];

describe("docker's contract", () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  const check = (c: Case) => {
    const r = env.den(c.args);
    const what = `den ${c.args.join(' ')}: ${r.stderr}`;
    assert.equal(r.status, c.status, what);
    for (const [stream, expected] of [
      [r.stdout, c.stdout],
      [r.stderr, c.stderr],
    ] as const) {
      if (typeof expected === 'string') assert.equal(stream, expected, what);
      else if (expected) assert.match(stream, expected, what);
    }
  };

  describe('exit statuses', () => {
    for (const c of EXIT_STATUSES) test(c.name, () => check(c));
    for (const c of OTHER_COMMANDS) test(c.name, () => check(c));
    test('rm -f of a missing container among present ones removes those and exits 0', () => {
      assert.equal(env.den(['create', '--name', 'present', 'busybox', 'true']).status, 0);
      check({ name: '', args: ['rm', '-f', 'nosuch', 'present'], status: 0, stdout: 'present\n', stderr: '' });
    });
  });

  describe("Node's own options after the image reach the container, never Node", () => {
    for (const tail of NODE_OPTIONS_AFTER_THE_IMAGE) {
      test(tail.join(' '), () =>
        check({
          name: '',
          // `echo` reads options only before its first word.
          args: ['run', '--rm', 'busybox', 'echo', 'x', ...tail],
          status: 0,
          stdout: `x ${tail.join(' ')}\n`,
          stderr: '',
        }),
      );
    }
  });

  describe('unknown flags', () => {
    for (const c of FLAGS) test(c.name, () => check(c));
  });
  describe('version', () => {
    const cases: Case[] = [
      {
        name: '{{.Client.Version}}',
        args: ['version', '--format', '{{.Client.Version}}'],
        status: 0,
        stdout: `${VERSION}\n`,
      },
      {
        name: '{{.Server.Version}}',
        args: ['version', '--format', '{{.Server.Version}}'],
        status: 0,
        stdout: `${VERSION}\n`,
      },
      {
        name: '{{.Server.ApiVersion}}',
        args: ['version', '-f', '{{.Server.ApiVersion}}'],
        status: 0,
        stdout: '1.41\n',
      },
      {
        name: 'the default text',
        args: ['version'],
        status: 0,
        stdout: /^Client:\n Version: +[^\n]+\n[^]*\nServer: den\n Engine:\n  Version: /,
      },
      { name: 'too many arguments: 1', args: ['version', 'x'], status: 1 },
    ];
    for (const c of cases) test(c.name, () => check(c));
    for (const format of ['{{json .}}', 'json']) {
      test(`--format ${format}: Client and Server`, () => {
        const r = env.den(['version', '--format', format]);
        assert.equal(r.status, 0, r.stderr);
        const v = JSON.parse(r.stdout) as {
          Client: Record<string, unknown>;
          Server: {
            Version: string;
            ApiVersion: string;
            MinAPIVersion: string;
            Components: { Name: string; Version: string }[];
          };
        };
        assert.equal(v.Client.Version, VERSION);
        assert.equal(v.Client.ApiVersion, '1.41');
        assert.equal(v.Client.Os, 'linux');
        assert.equal(v.Server.Version, VERSION);
        assert.equal(v.Server.ApiVersion, '1.41');
        assert.equal(v.Server.Components[0]!.Name, 'Engine');
        assert.equal(v.Server.Components[0]!.Version, VERSION);
        assert.match(v.Server.Components[1]!.Version, /^\d+\.\d+/, 'the OCI runtime and its version');
      });
    }
  });

  describe('info', () => {
    interface Info {
      Containers: number;
      ContainersRunning: number;
      ContainersStopped: number;
      Images: number;
      Driver: string;
      DockerRootDir: string;
      KernelVersion: string;
      NCPU: number;
      MemTotal: number;
      ServerVersion: string;
      SecurityOptions: string[];
      Host: {
        Kernel: string;
        CgroupsVersion: string;
        OCIRuntime: { Name: string; Path: string; Version: string };
        Security: { Rootless: boolean };
        IDMappings: { UIDMap: { ContainerID: number; HostID: number; Size: number }[] };
      };
      Store: { GraphRoot: string; RunRoot: string; GraphDriverName: string; ImageStore: { Number: number } };
    }
    const info = (format: string): Info => {
      const r = env.den(['info', '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Info;
    };

    test('{{json .}}: the host, the store, the session, the runtime', () => {
      assert.equal(env.den(['create', '--name', 'counted', 'busybox', 'true']).status, 0);
      const i = info('{{json .}}');
      const containers = env.den(['ps', '-a', '-q']).stdout.split('\n').filter(Boolean).length;
      assert.equal(i.Containers, containers);
      assert.equal(i.ContainersRunning, 0);
      assert.equal(i.ContainersStopped, containers);
      assert.equal(i.Images, 1);
      assert.equal(i.Store.ImageStore.Number, 1);
      assert.equal(i.Driver, 'overlay');
      assert.equal(i.Store.GraphDriverName, 'overlay');
      assert.equal(i.DockerRootDir, env.dataDir);
      assert.equal(i.Store.GraphRoot, env.dataDir);
      assert.equal(i.Store.RunRoot, env.runtimeDir);
      assert.equal(i.KernelVersion, release());
      assert.equal(i.Host.Kernel, release());
      assert.equal(i.NCPU, cpus().length);
      assert.ok(i.MemTotal > 0);
      assert.equal(i.ServerVersion, VERSION);
      assert.match(i.Host.CgroupsVersion, /^v[12]$/);
      assert.equal(i.Host.OCIRuntime.Name, 'crun');
      assert.equal(i.Host.OCIRuntime.Path, '/usr/bin/crun');
      assert.match(i.Host.OCIRuntime.Version, /^crun version \d/);
      assert.equal(i.Host.Security.Rootless, true);
      assert.ok(i.SecurityOptions.includes('name=rootless'), String(i.SecurityOptions));
      assert.deepEqual(i.Host.IDMappings.UIDMap.slice(0, 2), [
        { ContainerID: 0, HostID: env.user.uid, Size: 1 },
        { ContainerID: 1, HostID: subuidBase(env.user), Size: i.Host.IDMappings.UIDMap[1]!.Size },
      ]);
      assert.equal(env.den(['rm', 'counted']).status, 0);
    });

    test('--format json, and fields', () => {
      assert.equal(info('json').Driver, 'overlay');
      check({
        name: '',
        args: ['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Driver}}'],
        status: 0,
        stdout: 'crun overlay\n',
      });
    });

    test('the default text', () => {
      check({
        name: '',
        args: ['info'],
        status: 0,
        stdout:
          /^Client:\n Version: [^]*\nServer:\n Containers: \d+\n  Running: 0\n[^]* Storage Driver: overlay\n[^]* Security Options:\n  seccomp\n   Profile: [^]*  rootless\n/,
      });
    });
  });

  describe("docker's config.json: psFormat and imagesFormat are the default --format", () => {
    const config = (dir: string, doc: string) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), doc);
      chmodSync(join(dir, 'config.json'), 0o644);
    };
    before(() => assert.equal(env.den(['create', '--name', 'formatted', 'busybox', 'true']).status, 0));
    after(() => {
      rmSync(join(env.home, '.docker'), { recursive: true, force: true });
      env.den(['rm', 'formatted']);
    });

    test('~/.docker/config.json: ps and images use it; --format and -q still win', () => {
      config(
        join(env.home, '.docker'),
        JSON.stringify({ psFormat: '{{.Names}}:{{.State}}', imagesFormat: 'table {{.Repository}}\\t{{.Tag}}' }),
      );
      check({ name: '', args: ['ps', '-a'], status: 0, stdout: /^formatted:created$/m, stderr: '' });
      assert.doesNotMatch(env.den(['ps', '-a']).stdout, /CONTAINER ID/);
      check({ name: '', args: ['ps', '-a', '--format', '{{.Names}}!'], status: 0, stdout: /^formatted!$/m });
      check({ name: '', args: ['ps', '-a', '-q'], status: 0, stdout: /^[0-9a-f]{12}$/m });
      check({ name: '', args: ['images'], status: 0, stdout: /^REPOSITORY +TAG\nbusybox +latest\n$/, stderr: '' });
      check({ name: '', args: ['images', '--format', '{{.Tag}}'], status: 0, stdout: 'latest\n' });
      check({ name: '', args: ['images', '-q'], status: 0, stdout: /^[0-9a-f]{12}\n$/ });
    });

    test('$DOCKER_CONFIG/config.json is read instead, as docker reads it', () => {
      const dir = join(env.root, 'docker-config');
      config(dir, JSON.stringify({ imagesFormat: '{{.Repository}}={{.Tag}}' }));
      const r = env.den(['images'], { env: { DOCKER_CONFIG: dir } });
      assert.equal(r.stdout, 'busybox=latest\n', r.stderr);
      check({ name: '', args: ['ps', '-a'], status: 0, stdout: /^formatted:created$/m });
    });

    test('a config file den cannot parse: a warning naming it, and the default table', () => {
      config(join(env.home, '.docker'), '{"psFormat": ');
      const r = env.den(['ps', '-a']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^CONTAINER ID +IMAGE/);
      assert.equal(
        r.stderr,
        `warning: docker's config file ${join(env.home, '.docker', 'config.json')}: not valid JSON; psFormat ignored\n`,
      );
      config(join(env.home, '.docker'), JSON.stringify({ imagesFormat: 7 }));
      const images = env.den(['images']);
      assert.match(images.stdout, /^REPOSITORY +TAG +IMAGE ID/);
      assert.match(images.stderr, /"imagesFormat" is not a string; imagesFormat ignored/);
    });
  });

  test('den --help lists version and info', () => {
    const help = env.den(['--help']).stdout;
    assert.match(help, /^  version +Show the den version information$/m);
    assert.match(help, /^  info +Display system-wide information$/m);
  });
});
