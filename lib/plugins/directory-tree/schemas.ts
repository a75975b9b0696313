import type { FromSchema } from 'json-schema-to-ts';
import { unixPathSchema as unixPath } from '../../core/field-schemas';

/**
 * The plugin's six schemas (draft-07), after the Delphix tutorial's `schema.json`, with what the
 * tutorial leaves out: `excludes` on the linked source, `resync` on the snapshot parameters, and
 * patterns on every field that reaches a host command.
 */

export const repositoryDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 256 } },
  nameField: 'name',
  identityFields: ['name'],
} as const;

export const sourceConfigDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'path'],
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      prettyName: 'Dataset Name',
      description: 'User-visible name for this dataset',
    },
    path: { ...unixPath, prettyName: 'Path', description: 'Full path to data location on the remote environment' },
  },
  nameField: 'name',
  identityFields: ['path'],
} as const;

export const linkedSourceDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['sourceAddress', 'username', 'mountLocation'],
  properties: {
    sourceAddress: {
      type: 'string',
      // No ':' in a host name: `host:` would make the copy source `user@host::path`, rsync's daemon mode
      // (plain TCP, no SSH). An IPv6 address is given in brackets, as rsync and ssh take it.
      pattern: '^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]{1,44}\\])$',
      prettyName: 'Host from which to copy',
      description:
        'IP address (IPv6 in brackets, [2001:db8::7]) or FQDN of host from which to copy; localhost, 127.0.0.1 or [::1] copies on the staging host itself',
    },
    username: {
      type: 'string',
      pattern: '^[a-z_][a-z0-9_-]{0,31}$',
      prettyName: 'Username on Source Host',
      description: 'Username for making SSH connection to source host',
    },
    mountLocation: {
      ...unixPath,
      prettyName: 'Mount Location on Staging Host',
      description: 'Where to mount storage onto the staging host while syncing',
    },
    excludes: {
      type: 'array',
      maxItems: 64,
      items: { type: 'string', pattern: '^[A-Za-z0-9._*?/@+=%-]{1,255}$' },
      prettyName: 'Excluded paths',
      description: 'rsync exclude patterns, relative to the source path',
    },
  },
} as const;

export const virtualSourceDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['mountLocation'],
  properties: {
    mountLocation: {
      ...unixPath,
      prettyName: 'Mount Location on Target Host',
      description: 'Where to mount VDB onto the target host',
    },
  },
} as const;

export const snapshotDefinition = {
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

export const snapshotParametersDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['resync'],
  properties: {
    resync: {
      type: 'boolean',
      prettyName: 'Resynchronize dSource',
      description: 'Compare every file by checksum instead of by size and time',
    },
  },
} as const;

export const schemas = {
  repositoryDefinition,
  sourceConfigDefinition,
  linkedSourceDefinition,
  virtualSourceDefinition,
  snapshotDefinition,
  snapshotParametersDefinition,
} as const;

export type RepositoryDefinition = FromSchema<typeof repositoryDefinition>;
export type SourceConfigDefinition = FromSchema<typeof sourceConfigDefinition>;
export type LinkedSourceParameters = FromSchema<typeof linkedSourceDefinition>;
export type VirtualSourceParameters = FromSchema<typeof virtualSourceDefinition>;
export type SnapshotDefinition = FromSchema<typeof snapshotDefinition>;
export type SnapshotParameters = FromSchema<typeof snapshotParametersDefinition>;
