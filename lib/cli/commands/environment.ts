import { createVerb, deleteVerb, listVerb, recordVerb } from '../api-verbs';
import { type CommandNoun, optionalFlag, requiredFlag } from '../cli-command';

/** `snapflow environment …`: the hosts Snapflow reaches. */
export const environmentCommand: CommandNoun = {
  noun: 'environment',
  summary: 'Unix hosts: SSM managed instances on AWS, `local` in local mode',
  verbs: {
    add: createVerb({
      operationId: 'createEnvironment',
      summary: 'Register a host',
      usage: '--name NAME --host-id local|i-…|mi-… [--scratch-path DIR]',
      flags: { name: { type: 'string' }, 'host-id': { type: 'string' }, 'scratch-path': { type: 'string' } },
      body: (values) => {
        const scratchPath = optionalFlag(values, 'scratch-path');
        return {
          name: requiredFlag(values, 'name'),
          host_id: requiredFlag(values, 'host-id'),
          ...(scratchPath === undefined ? {} : { scratch_path: scratchPath }),
        };
      },
    }),
    list: listVerb({
      operationId: 'listEnvironments',
      summary: 'List hosts',
      columns: [
        ['id', (record) => record.id],
        ['name', (record) => record.name],
        ['host', (record) => record.host_id],
        ['scratch path', (record) => record.scratch_path],
        ['created', (record) => record.created_at],
      ],
    }),
    show: recordVerb('getEnvironment', 'Show a host', 'environment-id'),
    delete: deleteVerb('deleteEnvironment', 'Forget a host nothing uses any more', 'environment-id'),
  },
};
