import { createVerb, deleteVerb, listVerb } from '../api-verbs';
import { type CommandNoun, requiredFlag } from '../cli-command';

/** `snapflow source-config …`: datasets on hosts. */
export const sourceConfigCommand: CommandNoun = {
  noun: 'source-config',
  summary: 'Datasets on hosts: a directory tree to link',
  verbs: {
    add: createVerb({
      operationId: 'createSourceConfig',
      summary: 'Register a directory tree on a host',
      usage: '--environment ID --name NAME --path DIR',
      flags: { environment: { type: 'string' }, name: { type: 'string' }, path: { type: 'string' } },
      body: (values) => ({
        environment_id: requiredFlag(values, 'environment'),
        name: requiredFlag(values, 'name'),
        path: requiredFlag(values, 'path'),
      }),
    }),
    list: listVerb({
      operationId: 'listSourceConfigs',
      summary: 'List source configs',
      columns: [
        ['id', (record) => record.id],
        ['name', (record) => record.name],
        ['environment', (record) => record.environment_id],
        ['path', (record) => record.path],
      ],
    }),
    delete: deleteVerb('deleteSourceConfig', 'Forget a directory tree no dSource links', 'source-config-id'),
  },
};
