/**
 * Go's text/template for `--format`, with docker's functions: den's own implementation, because no
 * maintained JavaScript one covers the language (npm's go-text-template and @ctrl/golang-template
 * handle fields, `if` and `range` only; go-text-template-napi ships Go in a native addon).
 *
 *   const t = parseTemplate('{{range .Mounts}}{{.Source}} {{end}}');
 *   t.execute(inspectJson);        // "/data /cache "
 *
 * Supported: text and actions, trim markers, comments; `.Field` chains, `$`, variables (`:=`, `=`),
 * `if`/`else if`/`else`, `with`/`else with`/`else`, `range` over arrays, maps (sorted keys) and
 * integers with `$i, $e :=`, `break`, `continue`; pipelines and parenthesised pipelines; Go's
 * literals; Go's builtins but `call`; docker's `json`, `join`, `split`, `title`, `lower`, `upper`,
 * `pad`, `truncate`. Refused with an error: `define`, `template` and `block`. How JSON-shaped values
 * stand for Go's structs and maps is in values.ts.
 */
import { DenError } from '../../common/errors.js';
import { Executor } from './execute.js';
import { BUILTINS, DOCKER_FUNCTIONS, HEADER_FUNCTIONS } from './functions.js';
import { parse, type Node } from './parser.js';
import { TemplateError } from './template-error.js';

const FUNCTIONS = { ...BUILTINS, ...DOCKER_FUNCTIONS };
const HEADER = { ...FUNCTIONS, ...HEADER_FUNCTIONS };
const NAMES: ReadonlySet<string> = new Set(Object.keys(FUNCTIONS));

export interface Template {
  /** The template over one value; a failure is a DenError (DEN0710) that names the template and where. */
  execute(data: unknown): string;
  /**
   * A table's header row: the template over a map of column titles, with docker's header functions.
   * Like docker, a failure keeps what was written before it.
   */
  header(titles: Record<string, string>): string;
}

/** docker's words for every template failure, parse or execution: users and scripts know them. */
function message(text: string, e: TemplateError): string {
  return `template parsing error: template ${JSON.stringify(text)} at ${e.line}:${e.column}: ${e.detail}`;
}

const HINT = "see Go's text/template (pkg.go.dev/text/template); `--format json` shows the fields";

export function parseTemplate(text: string): Template {
  let nodes: Node[];
  try {
    nodes = parse(text, NAMES);
  } catch (e) {
    if (e instanceof TemplateError) {
      throw new DenError('InvalidArgument', 'DEN0709', message(text, e), { hint: HINT, cause: e });
    }
    throw e;
  }
  return {
    execute(data) {
      try {
        return new Executor(text, FUNCTIONS).run(nodes, data);
      } catch (e) {
        if (e instanceof TemplateError) {
          throw new DenError('InvalidArgument', 'DEN0710', message(text, e), { hint: HINT, cause: e });
        }
        throw e;
      }
    },
    header(titles) {
      const ex = new Executor(text, HEADER);
      try {
        return ex.run(nodes, titles);
      } catch {
        return ex.partial();
      }
    },
  };
}
