import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ErrorNames, SnapflowError } from './errors';
import { unixPathProblem } from './paths';

// verbose: errors carry their schema, which the messages below read (format, known properties).
const ajv = new Ajv({ allErrors: false, strict: true, verbose: true });
// Delphix schema keywords carry UI hints and identity rules; validation ignores them.
ajv.addKeyword({ keyword: 'prettyName' });
ajv.addKeyword({ keyword: 'nameField' });
ajv.addKeyword({ keyword: 'identityFields' });
ajv.addFormat('unixpath', { type: 'string', validate: (value: string) => unixPathProblem(value) === undefined });

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Checks `value` against a JSON Schema and returns it typed, or throws a ValidationError whose
 * message names the field (as `root.a.b`) and whose action says how to fix it.
 */
export function validate<T>(schema: object, value: unknown, root: string): T {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = ajv.compile(schema);
    compiled.set(schema, check);
  }
  if (check(value)) return value as T;
  const [first] = check.errors ?? [];
  throw first === undefined
    ? new SnapflowError(ErrorNames.Validation, `${root} is not valid`, { action: 'Check the request.' })
    : describe(first, root, value);
}

function describe(error: ErrorObject, root: string, value: unknown): SnapflowError {
  const segments = error.instancePath.split('/').slice(1);
  const field = [root, ...segments.map(decodePointer)].join('.');
  const got = valueAt(value, segments);
  const params = error.params as Record<string, unknown>;
  const fail = (at: string, message: string, action: string) =>
    new SnapflowError(ErrorNames.Validation, message, { action, field: at });

  switch (error.keyword) {
    case 'required': {
      const missing = `${field}.${String(params.missingProperty)}`;
      return fail(missing, `${missing} is missing`, `Add ${missing} to the request.`);
    }
    case 'additionalProperties': {
      const extra = `${field}.${String(params.additionalProperty)}`;
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return fail(
        extra,
        `${extra} is not a known field`,
        `Remove it; known fields are: ${known.join(', ') || 'none'}.`,
      );
    }
    case 'type':
      return fail(
        field,
        `${field} must be of type ${String(params.type)}`,
        `Give ${field} as a ${String(params.type)}.`,
      );
    default:
      break;
  }
  if ((error.parentSchema as { format?: string }).format === 'unixpath' && typeof got === 'string') {
    const problem = unixPathProblem(got) ?? 'is not a valid host path';
    return fail(
      field,
      `${field} ${problem}: ${JSON.stringify(got)}`,
      `Give ${field} as an absolute path made of letters, digits and ._@+,=%- (for example /mnt/snapflow/data).`,
    );
  }
  if (error.keyword === 'pattern')
    return fail(
      field,
      `${field} has a value that is not allowed: ${JSON.stringify(got)}`,
      `Give ${field} a value matching ${String(params.pattern)}.`,
    );
  return fail(field, `${field} ${error.message ?? 'is not valid'}`, `Correct ${field}.`);
}

function decodePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function valueAt(value: unknown, segments: string[]): unknown {
  return segments.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[decodePointer(key)] : undefined,
    value,
  );
}
