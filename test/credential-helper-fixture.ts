/**
 * Real docker credential helpers for tests: small programs put in a directory of PATH. The main
 * one, docker-credential-NAME from `writeStoreHelper`, speaks the protocol exactly (get, store,
 * erase; "credentials not found in native keychain" and exit 1 for what it does not hold) against
 * a JSON file, and logs each call's verb and server URL so a test can see which keys den asked
 * for. `writeScriptHelper` makes the misbehaving ones (failing, garbage, slow).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoreHelper {
  /** docker-credential-NAME */
  program: string;
  /** The JSON file it keeps: {"server URL": {"Username": ..., "Secret": ...}}. */
  store: string;
  /** One line per call: "VERB SERVERURL". */
  log: string;
}

/** Writes `dir/docker-credential-NAME`, a node script keeping its credentials in `dir/NAME.json`. */
export function writeStoreHelper(dir: string, name: string): StoreHelper {
  mkdirSync(dir, { recursive: true });
  const program = `docker-credential-${name}`;
  const store = join(dir, `${name}.json`);
  const log = join(dir, `${name}.log`);
  // process.execPath in the shebang: the helper runs with any PATH, for any user.
  const script = `#!${process.execPath}
'use strict';
const fs = require('node:fs');
const STORE = ${JSON.stringify(store)};
const LOG = ${JSON.stringify(log)};
const verb = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
const fail = (message) => {
  process.stdout.write(message + '\\n');
  process.exit(1);
};
let db = {};
try {
  db = JSON.parse(fs.readFileSync(STORE, 'utf8'));
} catch {}
const save = () => fs.writeFileSync(STORE, JSON.stringify(db), { mode: 0o600 });
if (verb === 'store') {
  const c = JSON.parse(input);
  fs.appendFileSync(LOG, 'store ' + c.ServerURL + '\\n');
  if (!c.ServerURL) fail('no credentials server URL');
  if (!c.Username) fail('no credentials username');
  db[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  save();
} else if (verb === 'get' || verb === 'erase') {
  const url = input.trim();
  fs.appendFileSync(LOG, verb + ' ' + url + '\\n');
  if (!url) fail('no credentials server URL');
  const c = Object.prototype.hasOwnProperty.call(db, url) ? db[url] : undefined;
  if (!c) fail('credentials not found in native keychain');
  if (verb === 'get') {
    process.stdout.write(JSON.stringify({ ServerURL: url, Username: c.Username, Secret: c.Secret }));
  } else {
    delete db[url];
    save();
  }
} else {
  fail('unknown verb: ' + verb);
}
`;
  writeFileSync(join(dir, program), script);
  chmodSync(join(dir, program), 0o755);
  return { program, store, log };
}

/** What a store helper holds. */
export function helperStore(helper: StoreHelper): Record<string, { Username: string; Secret: string }> {
  return existsSync(helper.store) ? JSON.parse(readFileSync(helper.store, 'utf8')) : {};
}

/** The calls a store helper has had, as "VERB SERVERURL". */
export function helperCalls(helper: StoreHelper): string[] {
  return existsSync(helper.log) ? readFileSync(helper.log, 'utf8').split('\n').filter(Boolean) : [];
}

/** Writes `dir/docker-credential-NAME` as a shell script with this body. */
export function writeScriptHelper(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
