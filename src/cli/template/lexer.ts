/**
 * The tokens of Go's text/template, lexed the way text/template/parse lexes them: text outside
 * `{{ }}`, and inside an action fields (`.Name`), variables (`$x`), identifiers and keywords,
 * literals (Go's quoted and raw strings, characters, numbers), `| ( ) , := =` and spaces (which
 * separate arguments, so they are tokens). Trim markers (`{{- `, ` -}}`) are applied here and
 * comments (a slash and a star inside the braces) dropped here, so the parser never sees them.
 */
import { TemplateError } from './template-error.js';

export type TokenKind =
  | 'text'
  | 'left' // {{
  | 'right' // }}
  | 'space'
  | 'field' // .Name
  | 'dot' // .
  | 'variable' // $ or $name
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'nil'
  | 'number'
  | 'string'
  | 'pipe' // |
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'declare' // :=
  | 'assign' // =
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token's text; for strings and characters, the decoded value. */
  value: string;
  /** Offset in the template, for error positions. */
  pos: number;
  /** Offset just past the token: a field chains onto what ends where it starts. */
  end: number;
}

export const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'template',
  'block',
]);

const SPACE = /[ \t\r\n]/;
const ALNUM = /[A-Za-z0-9_]/;
const TRIM = ' \t\r\n';

function trimRight(s: string): string {
  let end = s.length;
  while (end > 0 && TRIM.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** " -}}": a space, then the marker: "{{3 -}}" trims, "{{3-}}" is a bad number. */
function atRightTrim(text: string, i: number): boolean {
  return SPACE.test(text[i] ?? '') && text.startsWith('-}}', i + 1);
}

function trimLeft(s: string, from: number): number {
  while (from < s.length && TRIM.includes(s[from]!)) from++;
  return from;
}

/** Go's string escapes: \a \b \f \n \r \t \v \\ \" \' \xNN \NNN \uNNNN \UNNNNNNNN. */
function unquote(body: string, pos: number, text: string): string {
  const simple: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    '"': '"',
    "'": "'",
  };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = body[++i];
    if (e !== undefined && simple[e] !== undefined) {
      out += simple[e];
      continue;
    }
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hex > 0 && /^[0-9A-Fa-f]+$/.test(body.slice(i + 1, i + 1 + hex)) && body.length >= i + 1 + hex) {
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + hex), 16));
      i += hex;
      continue;
    }
    if (e !== undefined && /^[0-7]{3}$/.test(body.slice(i, i + 3))) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
      continue;
    }
    throw new TemplateError(text, pos, `invalid syntax in quoted string: \\${e ?? ''}`);
  }
  return out;
}

const NUMBER =
  /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/;

export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, value: string, pos: number, end: number) => tokens.push({ kind, value, pos, end });
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open < 0) {
      push('text', text.slice(pos), pos, text.length);
      break;
    }
    // "{{-" trims only when a space follows it: "{{-3}}" is the number -3.
    const trim = text[open + 2] === '-' && SPACE.test(text[open + 3] ?? '');
    const before = trim ? trimRight(text.slice(pos, open)) : text.slice(pos, open);
    if (before !== '') push('text', before, pos, open);
    let i = open + 2 + (trim ? 2 : 0);
    if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new TemplateError(text, open, 'unclosed comment');
      i = close + 2;
      const trimAfter = atRightTrim(text, i);
      if (!trimAfter && !text.startsWith('}}', i)) {
        throw new TemplateError(text, open, 'comment ends before closing delimiter');
      }
      pos = trimAfter ? trimLeft(text, i + 4) : i + 2;
      continue;
    }
    push('left', '{{', open, i);
    pos = lexAction(text, i, push);
  }
  push('eof', '', text.length, text.length);
  return tokens;
}

/** The inside of one action, from `i` to its `}}`; returns the offset after the action (and any trim). */
function lexAction(text: string, i: number, push: (k: TokenKind, v: string, p: number, e: number) => void): number {
  let parens = 0;
  for (;;) {
    if (i >= text.length) throw new TemplateError(text, i, 'unclosed action');
    const ch = text[i]!;
    if (atRightTrim(text, i)) {
      push('space', ' ', i, i + 1);
      push('right', '}}', i + 1, i + 4);
      return trimLeft(text, i + 4);
    }
    if (text.startsWith('}}', i)) {
      if (parens > 0) throw new TemplateError(text, i, 'unclosed left paren');
      push('right', '}}', i, i + 2);
      return i + 2;
    }
    const start = i;
    if (SPACE.test(ch)) {
      while (i < text.length && SPACE.test(text[i]!) && !atRightTrim(text, i)) i++;
      push('space', ' ', start, i);
      continue;
    }
    if (ch === '|' || ch === ',') {
      push(ch === '|' ? 'pipe' : 'comma', ch, i, i + 1);
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      parens += ch === '(' ? 1 : -1;
      if (parens < 0) throw new TemplateError(text, i, 'unexpected right paren');
      push(ch === '(' ? 'lparen' : 'rparen', ch, i, i + 1);
      i++;
      continue;
    }
    if (text.startsWith(':=', i)) {
      push('declare', ':=', i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '=') {
      push('assign', '=', i, i + 1);
      i++;
      continue;
    }
    if (ch === '"' || ch === '`' || ch === "'") {
      const raw = ch === '`';
      let j = i + 1;
      for (; j < text.length && text[j] !== ch; j++) {
        if (!raw && text[j] === '\\') j++;
        else if (!raw && text[j] === '\n') break;
      }
      if (j >= text.length || text[j] !== ch) {
        throw new TemplateError(text, i, ch === "'" ? 'unterminated character constant' : 'unterminated quoted string');
      }
      const body = text.slice(i + 1, j);
      i = j + 1;
      if (raw) push('string', body, start, i);
      else if (ch === '"') push('string', unquote(body, start, text), start, i);
      else {
        const decoded = unquote(body, start, text);
        if ([...decoded].length !== 1) throw new TemplateError(text, start, `malformed character constant: '${body}'`);
        push('number', String(decoded.codePointAt(0)), start, i);
      }
      continue;
    }
    if (ch === '$') {
      i++;
      while (i < text.length && ALNUM.test(text[i]!)) i++;
      push('variable', text.slice(start, i), start, i);
      continue;
    }
    if (ch === '.' && !/\d/.test(text[i + 1] ?? '')) {
      i++;
      if (!ALNUM.test(text[i] ?? '')) {
        push('dot', '.', start, i);
        continue;
      }
      while (i < text.length && ALNUM.test(text[i]!)) i++;
      push('field', text.slice(start + 1, i), start, i);
      continue;
    }
    const number = NUMBER.exec(text.slice(i));
    if (number && (/[\d.]/.test(ch) || /\d|\./.test(text[i + 1] ?? ''))) {
      i += number[0].length;
      if (ALNUM.test(text[i] ?? '') || text[i] === '.') {
        throw new TemplateError(text, start, `bad number syntax: "${text.slice(start, i + 1)}"`);
      }
      push('number', number[0], start, i);
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      while (i < text.length && ALNUM.test(text[i]!)) i++;
      const word = text.slice(start, i);
      const kind: TokenKind =
        word === 'true' || word === 'false'
          ? 'bool'
          : word === 'nil'
            ? 'nil'
            : KEYWORDS.has(word)
              ? 'keyword'
              : 'identifier';
      push(kind, word, start, i);
      continue;
    }
    throw new TemplateError(text, i, `unexpected "${ch}" in command`);
  }
}
