/**
 * Tokens to a tree, with the checks Go's parser makes before anything runs: functions must exist,
 * variables must be declared in scope, `break` and `continue` belong in a `range`, every
 * `if`/`range`/`with` has its `end`. `{{else if}}` and `{{else with}}` nest the way Go nests them.
 */
import { lex, type Token } from './lexer.js';
import { TemplateError } from './template-error.js';

/** One operand of a command. */
export type Arg =
  | { type: 'field'; pos: number; names: string[] } // .A.B
  | { type: 'variable'; pos: number; name: string; names: string[] } // $x.A.B
  | { type: 'chain'; pos: number; node: Arg; names: string[] } // (pipeline).A.B
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'literal'; pos: number; value: string | number | boolean; text: string }
  | { type: 'function'; pos: number; name: string }
  | { type: 'pipeline'; pos: number; pipe: Pipeline };

export interface Command {
  pos: number;
  args: Arg[];
}

export interface Pipeline {
  pos: number;
  /** Variables declared (`:=`) or assigned (`=`); empty for a plain pipeline. */
  vars: string[];
  assign: boolean;
  commands: Command[];
}

export interface Control {
  type: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipeline;
  list: Node[];
  elseList: Node[] | undefined;
}

export type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipeline }
  | Control
  | { type: 'break' | 'continue'; pos: number };

type Stop = 'end' | 'else' | 'eof';

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly text: string,
    private readonly functions: ReadonlySet<string>,
  ) {
    this.tokens = lex(text);
  }

  parse(): Node[] {
    const [list, stop, pos] = this.list();
    if (stop !== 'eof') throw this.error(pos, `unexpected {{${stop}}}`);
    return list;
  }

  private error(pos: number, detail: string): TemplateError {
    return new TemplateError(this.text, pos, detail);
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  /** The next token that is not a space. */
  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'right') throw this.error(t.pos, `unexpected ${describe(t)} in ${context}`);
  }

  /** Nodes up to {{end}}, {{else}} or the end of the text; the {{else}}'s own tokens are left unread. */
  private list(): [Node[], Stop, number] {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') return [nodes, 'eof', t.pos];
      if (t.kind === 'text') {
        nodes.push({ type: 'text', text: t.value });
        continue;
      }
      // t is {{
      const first = this.nextNonSpace();
      if (first.kind === 'keyword') {
        switch (first.value) {
          case 'end':
            this.expectRight('end');
            return [nodes, 'end', first.pos];
          case 'else':
            return [nodes, 'else', first.pos];
          case 'if':
          case 'with':
          case 'range':
            nodes.push(this.control(first.value, first.pos));
            continue;
          case 'break':
          case 'continue':
            if (this.rangeDepth === 0) throw this.error(first.pos, `{{${first.value}}} outside {{range}}`);
            this.expectRight(first.value);
            nodes.push({ type: first.value, pos: first.pos });
            continue;
          default:
            throw this.error(first.pos, `{{${first.value}}} is not supported by den's templates`);
        }
      }
      this.i--;
      const pipe = this.pipeline('command', 'right');
      nodes.push({ type: 'action', pos: first.pos, pipe });
    }
  }

  /** if/with/range after its keyword, up to and including its {{end}}. */
  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const [list, stop, stopPos] = this.list();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (stop === 'eof') throw this.error(stopPos, `unexpected EOF: {{${kind}}} has no {{end}}`);
    if (stop === 'else') {
      const after = this.peekNonSpace();
      if ((kind === 'if' || kind === 'with') && after.kind === 'keyword' && after.value === kind) {
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one shared end.
        this.nextNonSpace();
        elseList = [this.control(kind, after.pos)];
      } else {
        this.expectRight('else');
        const [rest, restStop, restPos] = this.list();
        if (restStop !== 'end') {
          throw this.error(
            restPos,
            restStop === 'eof' ? `unexpected EOF: {{${kind}}} has no {{end}}` : 'expected end; found {{else}}',
          );
        }
        elseList = rest;
      }
    }
    this.vars.length = mark;
    return { type: kind, pos, pipe, list, elseList };
  }

  private pipeline(context: string, end: 'right' | 'rparen'): Pipeline {
    const start = this.peekNonSpace();
    const vars: string[] = [];
    let assign = false;
    // Declarations: $x := ..., $x = ..., and in range $i, $e := ...
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.kind === 'variable') {
      const op = this.nextNonSpace();
      if (op.kind === 'declare' || op.kind === 'assign') {
        vars.push(v.value);
        assign = op.kind === 'assign';
      } else if (op.kind === 'comma' && context === 'range') {
        const second = this.nextNonSpace();
        const op2 = this.nextNonSpace();
        if (second.kind !== 'variable' || (op2.kind !== 'declare' && op2.kind !== 'assign')) {
          throw this.error(second.pos, 'range can only initialize variables');
        }
        vars.push(v.value, second.value);
        assign = op2.kind === 'assign';
      } else if (op.kind === 'comma') {
        throw this.error(op.pos, `too many declarations in ${context}`);
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    for (const name of vars) {
      if (assign) this.checkVariable(name, v.pos);
      else this.vars.push(name);
    }
    const commands: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if ((end === 'right' && t.kind === 'right') || (end === 'rparen' && t.kind === 'rparen')) {
        this.nextNonSpace();
        break;
      }
      if (t.kind === 'eof' || t.kind === 'right' || t.kind === 'rparen') {
        throw this.error(t.pos, `unexpected ${describe(t)} in ${context}`);
      }
      commands.push(this.command(context));
      const after = this.peekNonSpace();
      if (after.kind === 'pipe') this.nextNonSpace();
    }
    if (commands.length === 0) throw this.error(start.pos, `missing value for ${context}`);
    for (const c of commands.slice(1)) {
      const head = c.args[0]!;
      if (head.type === 'literal' || head.type === 'nil' || head.type === 'dot') {
        throw this.error(head.pos, `non executable command in pipeline stage ${commands.indexOf(c) + 1}`);
      }
    }
    return { pos: start.pos, vars, assign, commands };
  }

  private command(context: string): Command {
    const args: Arg[] = [];
    const pos = this.peekNonSpace().pos;
    for (;;) {
      while (this.peek().kind === 'space') this.next();
      const t = this.peek();
      if (t.kind === 'pipe' || t.kind === 'right' || t.kind === 'rparen') break;
      if (t.kind === 'eof') throw this.error(t.pos, `unclosed action in ${context}`);
      args.push(this.operand());
      const after = this.peek();
      if (after.kind !== 'space' && after.kind !== 'pipe' && after.kind !== 'right' && after.kind !== 'rparen') {
        throw this.error(after.pos, `unexpected ${describe(after)} in operand`);
      }
    }
    if (args.length === 0) throw this.error(pos, 'empty command');
    return { pos, args };
  }

  /** A term and the fields chained onto it without spaces: .A.B, $x.A, (pipeline).A */
  private operand(): Arg {
    const t = this.next();
    let arg: Arg;
    switch (t.kind) {
      case 'field': {
        const names = [t.value, ...this.chainedFields(t.end)];
        return { type: 'field', pos: t.pos, names };
      }
      case 'variable':
        this.checkVariable(t.value, t.pos);
        return { type: 'variable', pos: t.pos, name: t.value, names: this.chainedFields(t.end) };
      case 'dot':
        arg = { type: 'dot', pos: t.pos };
        break;
      case 'nil':
        arg = { type: 'nil', pos: t.pos };
        break;
      case 'bool':
        arg = { type: 'literal', pos: t.pos, value: t.value === 'true', text: t.value };
        break;
      case 'string':
        arg = { type: 'literal', pos: t.pos, value: t.value, text: this.text.slice(t.pos, t.end) };
        break;
      case 'number':
        arg = { type: 'literal', pos: t.pos, value: parseNumber(t.value), text: t.value };
        if (Number.isNaN(arg.value)) throw this.error(t.pos, `bad number syntax: "${t.value}"`);
        break;
      case 'identifier':
        if (!this.functions.has(t.value)) throw this.error(t.pos, `function "${t.value}" not defined`);
        arg = { type: 'function', pos: t.pos, name: t.value };
        break;
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rparen');
        const close = this.tokens[this.i - 1]!;
        const names = this.chainedFields(close.end);
        const node: Arg = { type: 'pipeline', pos: t.pos, pipe };
        return names.length > 0 ? { type: 'chain', pos: t.pos, node, names } : node;
      }
      default:
        throw this.error(t.pos, `unexpected ${describe(t)} in operand`);
    }
    if (this.peek().kind === 'field' && this.peek().pos === t.end) {
      throw this.error(this.peek().pos, `unexpected . after term "${this.text.slice(t.pos, t.end)}"`);
    }
    return arg;
  }

  /** Field tokens that follow `end` with nothing between them. */
  private chainedFields(end: number): string[] {
    const names: string[] = [];
    while (this.peek().kind === 'field' && this.peek().pos === end) {
      const f = this.next();
      names.push(f.value);
      end = f.end;
    }
    return names;
  }

  private checkVariable(name: string, pos: number): void {
    if (!this.vars.includes(name)) throw this.error(pos, `undefined variable "${name}"`);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'EOF';
    case 'right':
      return '"}}"';
    case 'space':
      return 'space';
    default:
      return `"${t.value}"`;
  }
}

/** Go's number literals: decimal, 0x, 0o, 0b, old-style octal (017), floats, `_` separators. */
function parseNumber(text: string): number {
  const negative = text.startsWith('-');
  const body = text.replace(/^[+-]/, '').replace(/_/g, '');
  const n = /^0\d+$/.test(body) ? parseInt(body, 8) : Number(body);
  return negative ? -n : n;
}

export function parse(text: string, functions: ReadonlySet<string>): Node[] {
  return new Parser(text, functions).parse();
}
