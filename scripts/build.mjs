// Bundles den into dist/den.cjs with esbuild. One CommonJS file: Node 20 loads it measurably faster
// than ESM chunks (about 10 ms of every command's start-up), and V8 parses the functions of
// commands that do not run only lazily. The SQLite addon is copied next to the bundle and found
// through DEN_SQLITE_ADDON, set by bin/den. better-sqlite3's and tar-stream's JavaScript is
// bundled, so they are build-time dependencies; koffi (loaded only to unpack layers and to idmap)
// stays a runtime dependency because it finds its own native file relative to its package.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(dist, 'den.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['*.node', 'koffi'],
  // The sources are ESM and use import.meta.url to find files beside them; in the bundle that is
  // the bundle's own URL.
  define: { __DEN_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__denBundleUrl' },
  banner: { js: "const __denBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

const require = createRequire(import.meta.url);
const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
copyFileSync(addon, join(dist, 'better_sqlite3.node'));
