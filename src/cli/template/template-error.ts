/** A template that does not parse or fails while executing, with where: line and column (1-based). */
export class TemplateError extends Error {
  readonly line: number;
  readonly column: number;
  readonly detail: string;

  constructor(text: string, pos: number, detail: string) {
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - (before.lastIndexOf('\n') + 1) + 1;
    super(`${line}:${column}: ${detail}`);
    this.name = 'TemplateError';
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}
