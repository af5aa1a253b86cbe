/**
 * Runs a parsed template over a value, with text/template's semantics: dot and variables, fields
 * and map keys, function calls and pipelines (the value of one command is the last argument of the
 * next), `if`/`with`/`range` with Go's truth, and `range` over maps in sorted key order.
 */
import type { Arg, Command, Control, Node, Pipeline } from './parser.js';
import { CallError, convert, type TemplateFunction } from './functions.js';
import { TemplateError } from './template-error.js';
import { formatValue, goType, isObject, isStruct, sortedKeys, truth } from './values.js';

/** No value was piped into a command (distinct from `undefined`, Go's invalid value). */
const NONE = Symbol('none');
type Piped = unknown | typeof NONE;

class Break {}
class Continue {}

/** Go's limit on nested template calls guards its stack; den bounds range work the same way. */
const MAX_ITERATIONS = 1_000_000;

export class Executor {
  private readonly vars: { name: string; value: unknown }[] = [];
  private out = '';
  private iterations = 0;

  constructor(
    private readonly text: string,
    private readonly functions: Readonly<Record<string, TemplateFunction>>,
  ) {}

  run(nodes: readonly Node[], data: unknown): string {
    this.vars.push({ name: '$', value: data });
    this.walk(nodes, data);
    return this.out;
  }

  /** What was written before a failure: docker keeps it for a table's header row. */
  partial(): string {
    return this.out;
  }

  private error(pos: number, detail: string): TemplateError {
    return new TemplateError(this.text, pos, detail);
  }

  private walk(nodes: readonly Node[], dot: unknown): void {
    for (const node of nodes) {
      switch (node.type) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(dot, node.pipe);
          if (node.pipe.vars.length === 0) this.out += this.print(v, node.pos);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipeline(dot, node.pipe);
          if (truth(v)) this.walk(node.list, node.type === 'with' ? v : dot);
          else if (node.elseList) this.walk(node.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(node, dot);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private range(node: Control, dot: unknown): void {
    const mark = this.vars.length;
    const pipe: Pipeline = { ...node.pipe, vars: [] };
    const v = this.pipeline(dot, pipe);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((e, i) => [i, e]);
    else if (typeof v === 'number' && Number.isInteger(v))
      entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (isObject(v) && !isStruct(v)) entries = sortedKeys(v).map((k) => [k, v[k]]);
    else if (v === undefined || v === null) entries = [];
    else throw this.error(node.pos, `range can't iterate over ${formatValue(v)}`);
    const [first, second] = node.pipe.vars;
    const bind = (name: string, value: unknown) => {
      if (node.pipe.assign) this.assign(name, value);
      else this.vars.push({ name, value });
    };
    for (const [key, elem] of entries) {
      if (++this.iterations > MAX_ITERATIONS)
        throw this.error(node.pos, `range: more than ${MAX_ITERATIONS} iterations`);
      const inner = this.vars.length;
      if (second !== undefined) {
        bind(first!, key);
        bind(second, elem);
      } else if (first !== undefined) bind(first, elem);
      try {
        this.walk(node.list, elem);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = inner;
      }
    }
    if (entries.length === 0 && node.elseList) this.walk(node.elseList, dot);
    this.vars.length = mark;
  }

  private print(v: unknown, pos: number): string {
    if (typeof v === 'function') throw this.error(pos, "can't print a function");
    return formatValue(v);
  }

  private pipeline(dot: unknown, pipe: Pipeline): unknown {
    let value: Piped = NONE;
    for (const cmd of pipe.commands) value = this.command(dot, cmd, value);
    for (const name of pipe.vars) {
      if (pipe.assign) this.assign(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private assign(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
  }

  private variable(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return undefined;
  }

  private command(dot: unknown, cmd: Command, final: Piped): unknown {
    const head = cmd.args[0]!;
    switch (head.type) {
      case 'field':
        return this.fieldChain(dot, dot, head.names, head.pos, cmd.args, final);
      case 'chain':
        return this.fieldChain(dot, this.arg(dot, head.node), head.names, head.pos, cmd.args, final);
      case 'variable':
        if (head.names.length > 0)
          return this.fieldChain(dot, this.variable(head.name), head.names, head.pos, cmd.args, final);
        break;
      case 'function':
        return this.call(dot, head.name, head.pos, cmd.args.slice(1), final);
      case 'nil':
        throw this.error(head.pos, 'nil is not a command');
    }
    if (cmd.args.length > 1 || final !== NONE) {
      throw this.error(head.pos, `can't give argument to non-function ${this.source(head)}`);
    }
    return this.arg(dot, head);
  }

  private source(arg: Arg): string {
    switch (arg.type) {
      case 'literal':
        return arg.text;
      case 'dot':
        return '.';
      case 'variable':
        return arg.name;
      default:
        return arg.type;
    }
  }

  private arg(dot: unknown, arg: Arg): unknown {
    switch (arg.type) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'literal':
        return arg.value;
      case 'field':
        return this.fieldChain(dot, dot, arg.names, arg.pos, [arg], NONE);
      case 'chain':
        return this.fieldChain(dot, this.arg(dot, arg.node), arg.names, arg.pos, [arg], NONE);
      case 'variable':
        return arg.names.length > 0
          ? this.fieldChain(dot, this.variable(arg.name), arg.names, arg.pos, [arg], NONE)
          : this.variable(arg.name);
      case 'function':
        return this.call(dot, arg.name, arg.pos, [], NONE);
      case 'pipeline': {
        const mark = this.vars.length;
        const v = this.pipeline(dot, arg.pipe);
        this.vars.length = mark;
        return v;
      }
    }
  }

  /** .A.B.C: each name a field or map key of what came before; the last may be a method with arguments. */
  private fieldChain(
    dot: unknown,
    receiver: unknown,
    names: string[],
    pos: number,
    args: Arg[],
    final: Piped,
  ): unknown {
    let v = receiver;
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      v = this.field(dot, v, name, pos, last ? args.slice(1) : [], last ? final : NONE, names.slice(0, i + 1));
    });
    return v;
  }

  private field(
    dot: unknown,
    receiver: unknown,
    name: string,
    pos: number,
    args: Arg[],
    final: Piped,
    path: string[],
  ): unknown {
    const where = `<.${path.join('.')}>`;
    const hasArgs = args.length > 0 || final !== NONE;
    // A missing map key and a nil are Go's invalid value and nil map: a field of them is <no value>.
    if (receiver === undefined || receiver === null) return undefined;
    if (!isObject(receiver)) {
      throw this.error(pos, `executing ${where}: can't evaluate field ${name} in type ${goType(receiver)}`);
    }
    if (Object.hasOwn(receiver, name)) {
      const v = receiver[name];
      if (typeof v === 'function') {
        const values = args.map((a) => this.arg(dot, a));
        if (final !== NONE) values.push(final);
        return (v as (...a: unknown[]) => unknown).apply(receiver, values);
      }
      if (hasArgs) throw this.error(pos, `executing ${where}: ${name} has arguments but cannot be invoked as function`);
      return v;
    }
    if (isStruct(receiver)) {
      throw this.error(
        pos,
        `executing ${where}: can't evaluate field ${name} (fields: ${Object.keys(receiver).join(', ')})`,
      );
    }
    if (hasArgs) throw this.error(pos, `executing ${where}: ${name} is not a method but has arguments`);
    return undefined;
  }

  private call(dot: unknown, name: string, pos: number, args: Arg[], final: Piped): unknown {
    const f = this.functions[name];
    if (!f) throw this.error(pos, `function "${name}" not defined`);
    const count = args.length + (final === NONE ? 0 : 1);
    const want = f.params.length;
    if (f.variadic ? count < want : count !== want) {
      throw this.error(
        pos,
        `wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${want} got ${count}`,
      );
    }
    // and/or evaluate their arguments only as far as they decide (Go 1.18).
    if (name === 'and' || name === 'or') {
      let v: unknown;
      for (let i = 0; i < count; i++) {
        v = i < args.length ? this.arg(dot, args[i]!) : final;
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const values = args.map((a) => this.arg(dot, a));
    if (final !== NONE) values.push(final);
    try {
      const converted = values.map((v, i) => convert(name, f.params[i] ?? f.variadic!, v));
      return f.call(...converted);
    } catch (e) {
      if (e instanceof CallError) throw this.error(pos, `executing <${name}>: ${e.message}`);
      throw e;
    }
  }
}
