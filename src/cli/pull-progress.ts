import type { PullEvent } from '../engine/index.js';
import { humanSize } from './output.js';

/**
 * Renders a pull as docker does. On a terminal, one line per layer redrawn in place
 * (`a1b2c3d4e5f6: Downloading [=====>    ] 12.3MB/45.6MB`); elsewhere (a log, a pipe) one line
 * per layer per state change, never the byte counts, so logs stay short.
 */
export class PullProgress {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = out.isTTY === true,
  ) {}

  readonly onEvent = (e: PullEvent): void => {
    if (e.kind === 'resolved') {
      this.print(`${e.reference}: pulling ${e.layers} layer${e.layers === 1 ? '' : 's'}`);
      return;
    }
    if (e.kind === 'waiting') {
      this.print(`Waiting for ${e.registry}: no answer for ${e.seconds} s`);
      return;
    }
    if (e.kind === 'bytes') {
      if (!this.tty) return;
      this.set(e.id, `Downloading ${bar(e.current, e.total)} ${humanSize(e.current)}/${humanSize(e.total)}`, false);
      return;
    }
    const text = {
      exists: 'Already exists',
      waiting: 'Waiting for another den pulling it',
      pulling: 'Pulling fs layer',
      done: 'Pull complete',
    }[e.status];
    this.set(e.id, text, true);
  };

  /** A line above the layers (Digest:, Status:). */
  print(line: string): void {
    if (this.tty) this.redraw(true);
    this.out.write(`${line}\n`);
    if (this.tty) {
      this.drawn = 0;
      this.order.length = 0;
      this.lines.clear();
    }
  }

  private set(id: string, text: string, important: boolean): void {
    if (!this.lines.has(id)) this.order.push(id);
    this.lines.set(id, text);
    if (!this.tty) {
      this.out.write(`${id}: ${text}\n`);
      return;
    }
    this.redraw(important);
  }

  /** Redraws every layer line in place, at most ten times a second unless a state changed. */
  private redraw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) text += `\x1b[2K${id}: ${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(text);
  }
}

export function bar(current: number, total: number, width = 40): string {
  const done = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  return `[${'='.repeat(Math.max(0, done - 1))}${done > 0 ? '>' : ''}${' '.repeat(width - done)}]`;
}
