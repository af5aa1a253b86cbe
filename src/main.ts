import { main } from './cli/index.js';

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`Error: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 125;
  },
);
