import { readFileSync } from 'node:fs';

/** A text file's content, or '' when it cannot be read: for files whose absence means "none". */
export function readTextOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
