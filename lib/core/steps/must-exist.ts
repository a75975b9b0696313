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
