'use strict';
// Loads one of den's bundles (dist/commands/NAME.cjs, dist/internal-*.cjs) as require() would, but
// with the V8 code cache the build wrote beside it (BUNDLE.cache): V8 then deserialises the
// compiled bundle instead of parsing its source. Node 20 has no compile cache of its own for
// CommonJS (module.enableCompileCache came with Node 22).
//
// The cache is used only when it was made from this very build of the bundle (its first line
// names the build, as the bundle's first line does) and V8 accepts it (the same V8 and flags);
// otherwise the bundle is compiled from its source, as require() would.
//
// `node load-bundle.cjs --write-cache BUNDLE...` (the build) writes the caches. It only compiles
// each bundle, it runs none of den: V8 compiles a bundle's top level (the code that initialises
// its modules) at once and its functions when they are first called, so the cache holds the top
// level, and each function is compiled from the source the first time a command calls it.
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** The bundle this process loaded: its name and exports. */
let loaded;

function buildId(source) {
  const m = /^\/\* den build ([0-9a-f]+) \*\//.exec(source);
  return m ? m[1] : undefined;
}

function compile(file, useCache) {
  const source = readFileSync(file, 'utf8');
  let cachedData;
  if (useCache) {
    try {
      const cache = readFileSync(`${file}.cache`);
      const newline = cache.indexOf(10);
      const id = buildId(source);
      if (id && newline > 0 && cache.toString('latin1', 0, newline) === id) cachedData = cache.subarray(newline + 1);
    } catch {
      // no cache: compiled from the source
    }
  }
  // As require() runs a CommonJS file: wrapped in a function of exports, require, module,
  // __filename and __dirname (on the source's first line, so that line numbers stay).
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  return { source, script: new Script(wrapped, { filename: file, cachedData }) };
}

function run(file, script) {
  const mod = new Module(file, module);
  mod.filename = file;
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return mod.exports;
}

/**
 * The exports of dist/NAME. A process loads one bundle: two would each have their own copy of the
 * modules they share (two DenError classes), so a second one is refused.
 */
function loadBundle(name) {
  if (loaded === undefined) {
    const file = join(__dirname, name);
    loaded = { name, exports: run(file, compile(file, true).script) };
  }
  if (loaded.name !== name) throw new Error(`den: ${name} cannot be loaded in a process that loaded ${loaded.name}`);
  return loaded.exports;
}

module.exports = loadBundle;
/** For the tests: compiles dist/NAME as loadBundle does, and says whether V8 took the cache. */
loadBundle.cacheAccepted = (name) => {
  const { script } = compile(join(__dirname, name), true);
  return script.cachedDataRejected === false;
};

if (require.main === module && process.argv[2] === '--write-cache') {
  for (const name of process.argv.slice(3)) {
    const file = join(__dirname, name);
    const { source, script } = compile(file, false);
    const id = buildId(source);
    if (!id) throw new Error(`${file} does not begin with its build id`);
    writeFileSync(`${file}.cache.tmp`, Buffer.concat([Buffer.from(`${id}\n`, 'latin1'), script.createCachedData()]));
    renameSync(`${file}.cache.tmp`, `${file}.cache`);
  }
}
