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

// When nothing is left to do, exit at once: Node's own way out first tears down its environment
// and the heap, which costs a listing command ~10 ms here. 'beforeExit' comes only once the event
// loop is empty, so nothing den still waits for (a child, a stream, a timer) is cut short.
process.once('beforeExit', () => process.exit());
