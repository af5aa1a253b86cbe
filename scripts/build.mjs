// Bundles den into dist/ with esbuild: CommonJS files (Node 20 loads CommonJS measurably faster
// than ESM chunks, about 10 ms of every command's start-up), one per program a den process can be:
//
//   den.cjs                 the entry: src/main.ts and what it imports statically (the command
//                           table, the version), a few kilobytes: `den --version` parses no more
//   commands/NAME.cjs       one command (src/cli/commands/NAME.ts) with the runner that parses its
//                           flags and gives it the engine (src/cli/run-command.ts), and all they use
//   internal-*.cjs          den's workers (__unpack, __shift) and conmon's exit command (__exited)
//
// Every module the entry loads with import() becomes a bundle of its own, loaded through a stub
// (`require('./load-bundle.cjs')(NAME)`): a process loads the entry and one bundle, and parses only
// what that command can use (on these machines each 100 kB of bundle costs ~2 ms to read and
// ~1.5 ms to deserialise). The entry loads the runner with import() too, and calls it with the
// command's loader: in the bundles the runner is the one in the command's own bundle (the stub for
// run-command.ts asks the loaded command for it), so that the runner and the command share one
// copy of every module (one DenError class: `instanceof` fails between two copies). For the same
// reason the build refuses a module that would be in the entry and in a bundle, but for modules
// of constants only (the version).
//
// Each bundle is loaded with a V8 code cache written here, beside it (scripts/load-bundle.cjs):
// V8 then deserialises the bundle's compiled code instead of parsing its source.
//
// The SQLite addon is copied next to the bundle and found through DEN_SQLITE_ADDON, set by bin/den.
// better-sqlite3's and tar-stream's JavaScript is bundled, so they are build-time dependencies;
// koffi (loaded only to unpack layers and to idmap) stays a runtime dependency because it finds its
// own native file relative to its package.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'src', 'cli');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const RUNNER = join(cliDir, 'run-command.ts');
const COMMANDS_DIR = join(cliDir, 'commands');
/** The build's id, first in every bundle: load-bundle.cjs uses a code cache only with the build it was made from. */
const buildId = randomBytes(8).toString('hex');

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['*.node', 'koffi'],
  // import() becomes require(): bundles run through vm.Script (load-bundle.cjs), which has no
  // loader for a real dynamic import.
  supported: { 'dynamic-import': false },
  // The sources are ESM and use import.meta.url to find files beside them; in the bundle that is
  // the bundle's own URL.
  define: { __DEN_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__denBundleUrl' },
  metafile: true,
  logLevel: 'warning',
};
const urlBanner = "const __denBundleUrl = require('node:url').pathToFileURL(__filename).href;";

/** The bundles the entry loads: name (its path in dist/, without .cjs) -> the module it exports. */
const bundles = new Map();

const entry = await build({
  ...common,
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(dist, 'den.cjs'),
  banner: { js: urlBanner },
  plugins: [
    {
      name: 'den-bundles',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind !== 'dynamic-import' || args.namespace !== 'file') return undefined;
          const r = await b.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir });
          if (r.errors.length > 0) return { errors: r.errors };
          if (r.path === RUNNER) return { path: 'runner', namespace: 'den-runner' };
          const name = relative(cliDir, r.path).replace(/\.ts$/, '');
          if (name.startsWith('..'))
            return { errors: [{ text: `${args.path}: only src/cli's modules may be bundles` }] };
          bundles.set(name, r.path);
          return { path: name, namespace: 'den-bundle' };
        });
        b.onLoad({ filter: /.*/, namespace: 'den-bundle' }, (args) => ({
          contents: `module.exports = require('./load-bundle.cjs')(${JSON.stringify(`${args.path}.cjs`)});`,
          loader: 'js',
        }));
        // The runner of the command's own bundle.
        b.onLoad({ filter: /.*/, namespace: 'den-runner' }, () => ({
          contents:
            'exports.runCommand = (load, args) => load().then((command) => command.runCommand(async () => command, args));',
          loader: 'js',
        }));
        b.onResolve({ filter: /^\.\/load-bundle\.cjs$/ }, (args) =>
          args.namespace === 'den-bundle' ? { path: args.path, external: true } : undefined,
        );
      },
    },
  ],
});

/**
 * Node's modules that cost milliseconds to load (measured here: node:child_process ~7 ms of CPU
 * with node:net and node:dgram, node:zlib ~4, node:stream ~3) and that many commands never use:
 * a bundle requires them when it first uses them, not when it starts (`den ps` starts no process).
 * The others (node:fs, node:path and the like, mostly loaded by Node before den starts, or cheap)
 * are required as usual.
 */
const LOADED_ON_FIRST_USE = new Set([
  'node:child_process',
  'node:dgram',
  'node:http',
  'node:https',
  'node:net',
  'node:readline',
  'node:stream',
  'node:stream/promises',
  'node:tls',
  'node:tty',
  'node:zlib',
]);
const lazyBuiltins = {
  name: 'den-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace !== 'den-builtin' && LOADED_ON_FIRST_USE.has(args.path)
        ? { path: args.path, namespace: 'den-builtin' }
        : { path: args.path, external: true },
    );
    // A stand-in with the module's names, each a getter that requires the module on first use.
    b.onLoad({ filter: /.*/, namespace: 'den-builtin' }, (args) => ({
      contents: [
        'let m;',
        `const get = () => (m ??= require(${JSON.stringify(args.path)}));`,
        ...Object.keys(require(args.path)).map(
          (name) =>
            `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => get()[${JSON.stringify(name)}] });`,
        ),
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/** A command's module: anything under src/cli/commands/. */
const isCommand = (file) => !relative(COMMANDS_DIR, file).startsWith('..');
const programs = await build({
  ...common,
  entryPoints: [...bundles.keys()].map((name) => ({ in: `den-bundle:${name}`, out: name })),
  outdir: dist,
  outExtension: { '.js': '.cjs' },
  banner: { js: `/* den build ${buildId} */\n${urlBanner}` },
  plugins: [
    lazyBuiltins,
    {
      name: 'den-bundle-entries',
      setup(b) {
        b.onResolve({ filter: /^den-bundle:/ }, (args) => ({ path: args.path.slice(11), namespace: 'den-bundle' }));
        // A command's bundle exports the command and the runner; a worker's, the worker.
        b.onLoad({ filter: /.*/, namespace: 'den-bundle' }, (args) => {
          const file = bundles.get(args.path);
          const lines = [`export * from ${JSON.stringify(file)};`];
          if (isCommand(file)) lines.push(`export { runCommand } from ${JSON.stringify(RUNNER)};`);
          return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
        });
      },
    },
  ],
});

const inputs = (result) => Object.keys(result.metafile.inputs).filter((i) => i.startsWith('src/'));
/** Modules in the entry and in a bundle that hold nothing but constants: two copies of them are one. */
const CONSTANTS_ONLY = new Set(['src/cli/version.ts']);
const inBundles = new Set(inputs(programs));
const twice = inputs(entry).filter((i) => inBundles.has(i) && !CONSTANTS_ONLY.has(i));
if (twice.length > 0) {
  throw new Error(
    `these modules would be loaded twice, by den.cjs and by a bundle: ${twice.join(', ')}; ` +
      'the entry (src/main.ts, src/cli/index.ts) may import them only with import()',
  );
}

copyFileSync(join(root, 'scripts', 'load-bundle.cjs'), join(dist, 'load-bundle.cjs'));
const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
copyFileSync(addon, join(dist, 'better_sqlite3.node'));

// The code caches, made by the Node that builds (a Node of another version rejects them, and
// load-bundle.cjs then compiles the bundle as require would).
execFileSync(
  process.execPath,
  [join(dist, 'load-bundle.cjs'), '--write-cache', ...[...bundles.keys()].map((n) => `${n}.cjs`)],
  {
    stdio: 'inherit',
  },
);
