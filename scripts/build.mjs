// Bundles den into dist/ with esbuild: one ESM entry plus lazily loaded chunks per command, so
// start-up parses only what the command needs. The SQLite addon is copied next to the bundle and
// found through DEN_SQLITE_ADDON, set by bin/den. better-sqlite3's and tar-stream's JavaScript is
// bundled, so they are build-time dependencies; koffi (loaded only to unpack layers) stays a
// runtime dependency because it finds its own native file relative to its package.
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
  entryPoints: { den: join(root, 'src/main.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // better-sqlite3's loader (bindings) and koffi look for their native files relative to their
  // own package; bundle their JS but keep the require() of the .node files working.
  external: ['*.node', 'koffi'],
  banner: {
    js: "import { createRequire as __denCreateRequire } from 'node:module'; const require = __denCreateRequire(import.meta.url);",
  },
  define: { __DEN_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});

const require = createRequire(import.meta.url);
const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
copyFileSync(addon, join(dist, 'better_sqlite3.node'));
