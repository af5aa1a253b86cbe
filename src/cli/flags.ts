import { DenError } from '../common/errors.js';
import { dockerFlag } from './docker-flags.js';
import type { UsageFailure } from './errors.js';

export type FlagType = 'bool' | 'string' | 'list';

export interface FlagSpec {
  long: string;
  short?: string;
  type: FlagType;
  help: string;
  /** Shown in help as the value's name. */
  value?: string;
  /**
   * Refuses a malformed value while the flags are parsed, as docker's typed flags do (its message
   * follows docker's `invalid argument "V" for "--flag" flag:`); each value of a list flag.
   */
  check?: (value: string) => unknown;
}

export interface CommandSpec {
  /** 'run', 'system check' ... */
  path: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Stop at the first positional: everything after the image is the container's command. */
  stopAtPositional?: boolean;
  minArgs?: number;
  maxArgs?: number;
  /**
   * The exit status when the command fails for a reason with no status of its own (errors.ts):
   * docker's run and create give 125, its other commands 1. Default 125.
   */
  failureStatus?: number;
}

export interface Parsed {
  flags: Map<string, string | boolean | string[]>;
  args: string[];
}

const HELP: FlagSpec = { long: 'help', type: 'bool', help: 'Print usage' };

/** A usage error: docker prints it, points at --help, and exits 125 (errors.ts prints it so). */
export function usageError(spec: CommandSpec, message: string): DenError {
  return new DenError('InvalidArgument', 'DEN0701', message, {
    hint: `See 'den ${spec.path} --help'.`,
    reason: 'usage' satisfies UsageFailure,
  });
}

/**
 * For a flag docker has and den does not (docker-flags.ts): say so, after docker's own words; a
 * shorthand with the long name it stands for.
 */
function notYet(spec: CommandSpec, name: { long: string } | { short: string }): string {
  const f = dockerFlag(spec.path, name);
  if (!f) return '';
  return `: docker's ${'short' in name ? `-${name.short} (--${f.long})` : `--${f.long}`} is not supported by den yet`;
}

/**
 * Parses docker-style flags: --name value, --name=value, -n value, -nvalue, combined short booleans
 * (-it), repeated list flags (-e A -e B), `--` ending the flags.
 */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): Parsed {
  const all = [...spec.flags, HELP];
  const byLong = new Map(all.map((f) => [f.long, f]));
  const byShort = new Map(all.filter((f) => f.short).map((f) => [f.short!, f]));
  const flags = new Map<string, string | boolean | string[]>();
  const args: string[] = [];
  const set = (f: FlagSpec, value: string | boolean) => {
    if (f.check && typeof value === 'string') {
      try {
        f.check(value);
      } catch (e) {
        const names = `${f.short ? `-${f.short}, ` : ''}--${f.long}`;
        throw usageError(
          spec,
          `invalid argument ${JSON.stringify(value)} for ${JSON.stringify(names)} flag: ${(e as Error).message}`,
        );
      }
    }
    if (f.type === 'list') {
      const list = (flags.get(f.long) as string[] | undefined) ?? [];
      list.push(value as string);
      flags.set(f.long, list);
    } else {
      flags.set(f.long, value);
    }
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const f = byLong.get(name);
      if (!f) throw usageError(spec, `unknown flag: --${name}${notYet(spec, { long: name })}`);
      if (f.type === 'bool') {
        const v = eq < 0 ? 'true' : a.slice(eq + 1);
        if (v !== 'true' && v !== 'false')
          throw usageError(spec, `invalid argument "${v}" for "--${name}": expected true or false`);
        set(f, v === 'true');
      } else if (eq >= 0) {
        set(f, a.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) throw usageError(spec, `flag needs an argument: --${name}`);
        set(f, argv[++i]!);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const f = byShort.get(ch);
        if (!f) throw usageError(spec, `unknown shorthand flag: '${ch}' in ${a}${notYet(spec, { short: ch })}`);
        if (f.type === 'bool') {
          set(f, true);
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        if (value === '') {
          if (i + 1 >= argv.length) throw usageError(spec, `flag needs an argument: '${ch}' in ${a}`);
          value = argv[++i]!;
        }
        set(f, value);
        break;
      }
      continue;
    }
    args.push(a);
    if (spec.stopAtPositional) {
      i++;
      break;
    }
  }
  args.push(...argv.slice(i));
  if (!flags.get('help')) {
    if (spec.minArgs !== undefined && args.length < spec.minArgs) {
      throw usageError(
        spec,
        `"den ${spec.path}" requires at least ${spec.minArgs} argument${spec.minArgs === 1 ? '' : 's'}`,
      );
    }
    if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
      throw usageError(
        spec,
        `"den ${spec.path}" accepts at most ${spec.maxArgs} argument${spec.maxArgs === 1 ? '' : 's'}`,
      );
    }
  }
  return { flags, args };
}

export const str = (p: Parsed, name: string): string | undefined => p.flags.get(name) as string | undefined;
export const bool = (p: Parsed, name: string): boolean => p.flags.get(name) === true;
export const list = (p: Parsed, name: string): string[] => (p.flags.get(name) as string[] | undefined) ?? [];

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage:  den ${spec.usage}`, '', spec.summary, ''];
  if (spec.flags.length > 0) {
    lines.push('Options:');
    const rows = spec.flags.map((f) => {
      const names = `${f.short ? `-${f.short}, ` : '    '}--${f.long}${f.type === 'bool' ? '' : ` ${f.value ?? (f.type === 'list' ? 'list' : 'string')}`}`;
      return [names, f.help] as const;
    });
    const width = Math.max(...rows.map((r) => r[0].length)) + 2;
    for (const [names, help] of rows) lines.push(`  ${names.padEnd(width)}${help}`);
  }
  return lines.join('\n') + '\n';
}
