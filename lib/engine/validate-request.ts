import { ErrorNames, isSnapflowError, SnapflowError } from '../core/errors';
import { validate } from '../core/validate';

/** The root `validate()` names the whole request by; fields inside it lose the prefix. */
const ROOT = 'request';

/**
 * Validates an API request and returns it typed. Fields are named as the caller knows them: `name`,
 * `snapshotId`, and the plugin parameters under the plugin's names (with `renames` such as
 * `{ parameters: 'virtualSource' }`, a bad `parameters.mountLocation` is reported as
 * `virtualSource.mountLocation`).
 *
 * @throws ValidationError whose `field`, message and action name the offending field
 */
export function validateRequest<T>(schema: object, value: unknown, renames: Readonly<Record<string, string>> = {}): T {
  return parseRequest((input, root) => validate<T>(schema, input, root), value, renames);
}

/**
 * Runs a core parser (one that takes the root its messages name fields under, such as
 * parseSnapshotRetention) on an API request, with fields named as {@link validateRequest} names them.
 *
 * @throws ValidationError whose `field`, message and action name the offending field
 */
export function parseRequest<T>(
  parse: (value: unknown, root: string) => T,
  value: unknown,
  renames: Readonly<Record<string, string>> = {},
): T {
  try {
    return parse(value, ROOT);
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.Validation) || error.field === undefined) throw error;
    if (error.field === ROOT) {
      // About the request as a whole: its fields are still named without the prefix.
      const unprefixed = (text: string) => text.split(`${ROOT}.`).join('');
      throw new SnapflowError(
        ErrorNames.Validation,
        unprefixed(error.message),
        { action: unprefixed(error.action), field: ROOT },
        { cause: error },
      );
    }
    const original = error.field;
    const field = callerFieldName(original.slice(ROOT.length + 1), renames);
    const rename = (text: string) => text.split(original).join(field);
    throw new SnapflowError(
      ErrorNames.Validation,
      rename(error.message),
      { action: rename(error.action), field },
      {
        cause: error,
      },
    );
  }
}

function callerFieldName(field: string, renames: Readonly<Record<string, string>>): string {
  const [head = '', ...rest] = field.split('.');
  const renamed = renames[head];
  return renamed === undefined ? field : [renamed, ...rest].join('.');
}
