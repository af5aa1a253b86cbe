import { EngineContext, engineConfigFromEnv } from '../engine/index.js';
import { printError } from './errors.js';

/**
 * The engine for den's internal commands that conmon and the health-check loop run (`__exited`,
 * `__healthcheck`): configured from the environment they inherited from the den that started the
 * container, warnings and errors to stderr (which conmon discards), 125 for an error.
 */
export async function withInternalContext(run: (ctx: EngineContext) => Promise<number>): Promise<number> {
  const config = engineConfigFromEnv(process.env, { node: process.execPath, script: process.argv[1] });
  const ctx = new EngineContext(config, { warning: (message) => process.stderr.write(`warning: ${message}\n`) });
  try {
    return await run(ctx);
  } catch (e) {
    printError(e);
    return 125;
  } finally {
    ctx.close();
  }
}
