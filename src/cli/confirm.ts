import { createInterface } from 'node:readline';
import type { ErrorCode } from '../common/error-codes.js';
import { invalidArgument } from '../common/errors.js';

/**
 * docker's prompt before a prune: asked on the terminal, yes only for y or yes. Without a terminal
 * there is nobody to ask, so -f is needed; `code` is the command's own error code for that.
 */
export async function confirm(question: string, code: ErrorCode, command: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw invalidArgument(code, `${command} asks for confirmation, and stdin is not a terminal`, {
      hint: 'add -f to prune without asking',
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
