import { readdirSync, readFileSync } from 'node:fs';

/** A text file's content, or '' when it cannot be read: for files whose absence means "none". */
export function readTextOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A directory's entries, or none when it cannot be read: for directories made on first use. */
export function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
