import { invalidArgument } from '../../common/errors.js';
import type { ImageConfig, ImageHealthcheck } from '../../images/index.js';
import { parseDuration } from '../containers/create-spec.js';

/**
 * Applies `--change` instructions (a subset of Dockerfile syntax, as docker import takes) to an
 * image config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME, HEALTHCHECK.
 */
export function applyChanges(image: ImageConfig, changes: readonly string[]): void {
  const c = (image.config ??= {});
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(change);
    if (!m) throw badChange(change, 'expected INSTRUCTION ARGUMENTS');
    const instruction = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    switch (instruction) {
      case 'CMD':
        c.Cmd = commandForm(change, rest);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandForm(change, rest);
        break;
      case 'ENV':
        for (const [k, v] of keyValues(change, rest)) setEnv(c, k, v);
        break;
      case 'LABEL':
        c.Labels = { ...c.Labels, ...Object.fromEntries(keyValues(change, rest)) };
        break;
      case 'WORKDIR':
        if (!rest.startsWith('/')) throw badChange(change, 'WORKDIR must be an absolute path');
        c.WorkingDir = rest;
        break;
      case 'USER':
        c.User = rest;
        break;
      case 'STOPSIGNAL':
        c.StopSignal = rest;
        break;
      case 'EXPOSE':
        for (const port of rest.split(/\s+/))
          c.ExposedPorts = { ...c.ExposedPorts, [port.includes('/') ? port : `${port}/tcp`]: {} };
        break;
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(change, rest);
        break;
      case 'VOLUME':
        for (const v of rest.startsWith('[') ? jsonArray(change, rest) : rest.split(/\s+/))
          c.Volumes = { ...c.Volumes, [v]: {} };
        break;
      default:
        throw badChange(
          change,
          `${instruction} is not supported; use CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR`,
        );
    }
  }
}

/**
 * `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command` or
 * `HEALTHCHECK NONE`, as a Dockerfile has it: the command's shell form becomes ['CMD-SHELL', line],
 * its JSON form ['CMD', ...argv]; a duration is Go's (30s, 1m30s), 0 or at least 1ms.
 */
function healthcheck(change: string, rest: string): ImageHealthcheck {
  const check: ImageHealthcheck = {};
  let line = rest;
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(line); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(line)) {
    const [, flag, value] = m as unknown as [string, string, string];
    line = line.slice(m[0].length);
    if (flag === 'retries') {
      if (!/^-?[0-9]+$/.test(value)) throw badChange(change, `--retries=${value} is not a whole number`);
      if (Number(value) < 0) throw badChange(change, `--retries cannot be negative (${value})`);
      check.Retries = Number(value);
      continue;
    }
    const field = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod' }[flag] as
      'Interval' | 'Timeout' | 'StartPeriod' | undefined;
    if (!field)
      throw badChange(change, `unknown flag --${flag}; use --interval, --timeout, --start-period or --retries`);
    const ns = parseDuration(value, `--change "${change}": --${flag}`);
    if (ns !== 0 && ns < 1e6) throw badChange(change, `--${flag} cannot be less than 1ms`);
    check[field] = ns;
  }
  const m = /^(\S+)\s*(.*)$/s.exec(line);
  const kind = m?.[1]!.toUpperCase();
  const command = m?.[2]!.trim() ?? '';
  if (kind === 'NONE') {
    if (command !== '' || line !== rest) throw badChange(change, 'HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw badChange(change, `unknown type ${JSON.stringify(m?.[1] ?? '')} in HEALTHCHECK (try CMD)`);
  if (command === '') throw badChange(change, 'missing command after HEALTHCHECK CMD');
  const test = command.startsWith('[') ? ['CMD', ...jsonArray(change, command)] : ['CMD-SHELL', command];
  if (test.length === 1) throw badChange(change, 'missing command after HEALTHCHECK CMD');
  return { Test: test, ...check };
}

function commandForm(change: string, rest: string): string[] {
  return rest.startsWith('[') ? jsonArray(change, rest) : ['/bin/sh', '-c', rest];
}

function jsonArray(change: string, rest: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    throw badChange(change, 'the JSON array is malformed');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw badChange(change, 'expected a JSON array of strings');
  return v as string[];
}

function keyValues(change: string, rest: string): [string, string][] {
  if (!rest.includes('=')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) throw badChange(change, 'expected KEY=VALUE or KEY VALUE');
    return [[rest.slice(0, sp), rest.slice(sp + 1).trim()]];
  }
  const out: [string, string][] = [];
  for (const m of rest.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2]!;
    out.push([m[1]!, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return out;
}

function setEnv(c: NonNullable<ImageConfig['config']>, key: string, value: string): void {
  const env = (c.Env ?? []).filter((e) => !e.startsWith(`${key}=`));
  env.push(`${key}=${value}`);
  c.Env = env;
}

function badChange(change: string, why: string) {
  return invalidArgument('DEN0434', `--change "${change}": ${why}`);
}
