import { userInfo } from 'node:os';
import { jobVerb, listVerb, recordVerb } from '../api-verbs';
import { type CommandNoun, optionalFlag, requiredFlag } from '../cli-command';

/** `snapflow dsource …`: linked copies of source configs. */
export const dsourceCommand: CommandNoun = {
  noun: 'dsource',
  summary: "dSources: the engine's copies of source configs, synced and snapshotted",
  verbs: {
    link: jobVerb({
      operationId: 'linkDSource',
      summary: 'Link a source config and take its first snapshot',
      usage:
        '--name NAME --source-config ID --staging-environment ID --mount-location DIR [--source-address HOST] [--username USER] [--exclude PATTERN]…',
      flags: {
        name: { type: 'string' },
        'source-config': { type: 'string' },
        'staging-environment': { type: 'string' },
        'mount-location': { type: 'string' },
        'source-address': { type: 'string' },
        username: { type: 'string' },
        exclude: { type: 'string', multiple: true },
      },
      body: (values) => {
        const excludes = values.exclude as string[] | undefined;
        return {
          name: requiredFlag(values, 'name'),
          source_config_id: requiredFlag(values, 'source-config'),
          staging_environment_id: requiredFlag(values, 'staging-environment'),
          linked_source: {
            // localhost: the staging host copies from itself, as when source and staging are one host.
            sourceAddress: optionalFlag(values, 'source-address') ?? 'localhost',
            username: optionalFlag(values, 'username') ?? userInfo().username,
            mountLocation: requiredFlag(values, 'mount-location'),
            ...(excludes === undefined ? {} : { excludes }),
          },
        };
      },
    }),
    list: listVerb({
      operationId: 'listDSources',
      summary: 'List dSources',
      columns: [
        ['id', (record) => record.id],
        ['name', (record) => record.name],
        ['source config', (record) => record.source_config_id],
        ['timeflow', (record) => record.current_timeflow_id],
        ['created', (record) => record.created_at],
      ],
    }),
    show: recordVerb('getDSource', 'Show a dSource', 'dsource-id'),
    sync: jobVerb({
      operationId: 'syncDSource',
      summary: 'Copy what changed from the source, then snapshot',
      usage: '<dsource-id> [--resync]',
      positionals: ['dsource-id'],
      flags: { resync: { type: 'boolean' } },
      body: (values) => ({ resync: values.resync === true }),
      resultId: 'snapshot',
    }),
    delete: jobVerb({
      operationId: 'deleteDSource',
      summary: 'Delete a dSource with its snapshots (refused while VDBs use them)',
      usage: '<dsource-id>',
      positionals: ['dsource-id'],
    }),
    space: recordVerb('getDSourceSpace', 'Space a dSource takes', 'dsource-id'),
  },
};
