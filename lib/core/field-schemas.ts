import { UNIX_PATH_PATTERN } from './paths';

/**
 * JSON Schemas of the fields many requests and records share, written once for the workflow inputs,
 * the engine API, the REST API and the plugin's parameters.
 */

/** Ids the engine hands out: a short kind prefix and 16 hex digits (`vdb-0123456789abcdef`). */
export const ID_PATTERN = '^[a-z]{2,4}-[0-9a-f]{16}$';

/** An id the engine hands out. */
export const idSchema = { type: 'string', pattern: ID_PATTERN } as const;

/** A name people give a record: printable, 1 to 128 characters. */
export const nameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
} as const;

/** An absolute host path that may reach a host command ({@link UNIX_PATH_PATTERN}). */
export const unixPathSchema = {
  type: 'string',
  format: 'unixpath',
  pattern: UNIX_PATH_PATTERN,
  maxLength: 4095,
} as const;

/** Most event sources one dSource may have. */
export const MAX_EVENT_SOURCES = 16;
