import { invalidArgument } from '../common/errors.js';
import { familiarName, familiarRepository, type Reference } from './reference.js';

/**
 * Shell patterns over image references, as docker's `reference` filter reads them (Go's
 * path.Match): `*` is any run of characters but `/`, `?` one character but `/`, `[a-z]` and
 * `[^a-z]` a class, `\x` the character x. A pattern matches a reference when it matches its
 * familiar form (busybox:latest, 127.0.0.1:5000/x@sha256:ab..) or its familiar repository
 * (busybox, 127.0.0.1:5000/x):
 *
 *   matchesReference(compilePattern('busy*'), parseReference('busybox:1'))            true
 *   matchesReference(compilePattern('*:1'), parseReference('busybox:1'))              true
 *   matchesReference(compilePattern('*'), parseReference('127.0.0.1:5000/x'))         false (a /)
 */
export function compilePattern(pattern: string): RegExp {
  const bad = (why: string) =>
    invalidArgument('DEN0426', `invalid reference pattern "${pattern}": ${why}`, {
      hint: 'use * and ? for characters other than /, [a-z] or [^a-z] for a class, \\ to escape one',
    });
  const chars = Array.from(pattern);
  const literal = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;
  let i = 0;
  // One character of a class: escaped, or anything but the class's own syntax.
  const classChar = (): string => {
    let c = chars[i];
    if (c === '\\') c = chars[++i];
    if (c === undefined) throw bad('unterminated [');
    if (c === '-' || c === ']') throw bad(`"${c}" must be escaped in a class`);
    i++;
    return c;
  };
  let out = '';
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) throw bad('a trailing \\');
      out += literal(next);
      i += 2;
    } else if (c === '[') {
      i++;
      const negated = chars[i] === '^';
      if (negated) i++;
      let set = '';
      let ranges = 0;
      for (;;) {
        if (chars[i] === ']' && ranges > 0) break;
        const lo = classChar();
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          hi = classChar();
          if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw bad(`range ${lo}-${hi} is backwards`);
        }
        set += lo === hi ? literal(lo) : `${literal(lo)}-${literal(hi)}`;
        ranges++;
      }
      i++; // the ]
      out += `[${negated ? '^' : ''}${set}]`;
    } else {
      out += literal(c);
      i++;
    }
  }
  return new RegExp(`^${out}$`, 'u');
}

export function matchesReference(pattern: RegExp, ref: Reference): boolean {
  return pattern.test(familiarName(ref)) || pattern.test(familiarRepository(ref));
}
