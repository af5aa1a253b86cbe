import { invalidArgument } from '../../common/errors.js';
import { validateName, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';

/**
 * `den rename`: a new name for a container in any status, unique among them (the store refuses a
 * name in use, as docker does). The journal gets docker's rename event, with the old name.
 */
export function renameContainer(ctx: EngineContext, ref: string, newName: string): ContainerRecord {
  const c = ctx.containers.resolve(ref);
  const name = validateName(newName);
  if (name === c.name) {
    throw invalidArgument('DEN1144', 'renaming a container with the same name as its current name', {
      hint: `container ${c.id.slice(0, 12)} is already named ${name}`,
    });
  }
  return ctx.containers.rename(c.id, name);
}
