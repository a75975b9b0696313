import { ErrorNames, SnapflowError } from '../errors';
import type { EngineApi } from '../ports';

/**
 * Refuses to delete what others depend on, before anything is touched: the error lists every
 * dependent with the engine's reason, so the user knows what to delete first.
 *
 * @param label how the message names the object, e.g. `VDB`
 * @param field the request field holding its id
 * @throws DependentsExistError naming `field`
 */
export async function refuseDependents(engine: EngineApi, label: string, id: string, field: string): Promise<void> {
  const dependents = await engine.listDependents(id);
  if (dependents.length === 0) return;
  const listed = dependents.map((dependent) => `${dependent.kind} ${dependent.id} (${dependent.reason})`).join('; ');
  throw new SnapflowError(
    ErrorNames.DependentsExist,
    `${label} ${id} cannot be deleted: ${dependents.length} depend on it: ${listed}`,
    {
      field,
      action: 'Delete the dependents listed first (child VDBs before their parents), then delete again.',
    },
  );
}
