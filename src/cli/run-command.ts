import { EngineContext } from '../engine/context.js';
import { engineConfigFromEnv } from '../engine/config.js';
import { storageFailure } from '../state/index.js';
import { exitCodeFor, printError } from './errors.js';
import { helpText, parseFlags, type CommandSpec, type Parsed } from './flags.js';

export interface CommandModule {
  spec: CommandSpec;
  handler(p: Parsed, ctx: EngineContext): Promise<number>;
}

/**
 * Runs one command: loads its module, parses its flags (or prints its --help), and hands it the
 * engine, configured from den's environment; errors are printed once and become the exit status.
 * Loaded by index.ts only once a command was found, so that `den --version` loads no engine.
 */
export async function runCommand(load: () => Promise<CommandModule>, args: string[]): Promise<number> {
  let ctx: EngineContext | undefined;
  let command: CommandModule | undefined;
  try {
    command = await load();
    const parsed = parseFlags(command.spec, args);
    if (parsed.flags.get('help')) {
      process.stdout.write(helpText(command.spec));
      return 0;
    }
    ctx = cliEngineContext();
    return await command.handler(parsed, ctx);
  } catch (e) {
    // A write refused by the disk under the store, wherever it happened, is said with the path.
    const err = (ctx && storageFailure(e, ctx.paths.dataDir)) || e;
    printError(err);
    return exitCodeFor(err, command?.spec.failureStatus);
  } finally {
    ctx?.close();
  }
}

/** The engine as the CLI drives it: configured from den's environment, warnings to stderr. */
function cliEngineContext(): EngineContext {
  const config = engineConfigFromEnv(process.env, { node: process.execPath, script: process.argv[1] });
  return new EngineContext(config, { warning: (message) => process.stderr.write(`warning: ${message}\n`) });
}
