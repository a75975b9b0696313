import { ErrorNames, isSnapflowError, SnapflowError } from '../errors';

/**
 * Runs `get` and turns the engine's NotFoundError into one that names the request field holding the
 * missing id, so the user learns which part of the request to correct.
 *
 * @throws NotFoundError with `field` set; any other error unchanged
 */
export async function mustExist<T>(field: string, id: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.NotFound)) throw error;
    throw new SnapflowError(
      ErrorNames.NotFound,
      `${field} ${id} does not exist`,
      { field, action: `Give the id of an existing record as ${field}; list them with the API or the CLI.` },
      { cause: error },
    );
  }
}

/** Whether `error` says the record is already gone, which an undo step treats as done. */
export function isAlreadyGone(error: unknown): boolean {
  return isSnapflowError(error, ErrorNames.NotFound);
}

/**
 * Refuses an id the caller chose for a new record when a record has it already. Creating with a chosen
 * id is idempotent in the engine, so without this a workflow would adopt the existing record, and its
 * undo would delete it.
 *
 * @param get reads the record; its NotFoundError means the id is free
 * @throws ConflictError naming the field; any other error of `get` unchanged
 */
export async function refuseTakenId(field: string, id: string, get: () => Promise<unknown>): Promise<void> {
  try {
    await get();
  } catch (error) {
    if (isSnapflowError(error, ErrorNames.NotFound)) return;
    throw error;
  }
  throw new SnapflowError(ErrorNames.Conflict, `${field} ${id} is taken: a record with that id exists`, {
    field,
    action: `Leave ${field} out for a new id, or choose one no record has.`,
  });
}
