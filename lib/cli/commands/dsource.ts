import { userInfo } from 'node:os';
import { jobVerb, listVerb, recordVerb, updateVerb } from '../api-verbs';
import { CliError, type CommandNoun, optionalFlag, requiredFlag } from '../cli-command';
import {
  DEFAULT_WIRE_POLICY,
  EVENT_SOURCE_USAGE,
  eventSourceFlags,
  eventSourcesFromFlags,
  POLICY_USAGE,
  policyFlags,
  policyFromFlags,
  retentionVerb,
  type WirePolicy,
} from '../policy-flags';

/** `snapflow dsource …`: linked copies of source configs. */
export const dsourceCommand: CommandNoun = {
  noun: 'dsource',
  summary: "dSources: the engine's copies of source configs, synced and snapshotted",
  verbs: {
    link: jobVerb({
      operationId: 'linkDSource',
      summary: 'Link a source config and take its first snapshot',
      usage: `--name NAME --source-config ID --staging-environment ID --mount-location DIR [--source-address HOST] [--username USER] [--exclude PATTERN]… ${POLICY_USAGE} ${EVENT_SOURCE_USAGE}`,
      flags: {
        ...policyFlags,
        ...eventSourceFlags,
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
        const policy = policyFromFlags(values, DEFAULT_WIRE_POLICY);
        const eventSources = eventSourcesFromFlags(values);
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
          ...(policy === undefined ? {} : { policy }),
          ...(eventSources === undefined ? {} : { event_sources: eventSources }),
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
    show: recordVerb('getDSource', 'Show a dSource with its snapshot policy', 'dsource-id'),
    'set-policy': updateVerb({
      operationId: 'updateDSource',
      read: 'getDSource',
      summary: "Change a dSource's schedule, retention or event sources; flags change only what they name",
      usage: `${POLICY_USAGE} ${EVENT_SOURCE_USAGE}`,
      idName: 'dsource-id',
      flags: { ...policyFlags, ...eventSourceFlags },
      body: (values, current) => {
        const policy = policyFromFlags(values, current?.policy as WirePolicy);
        const eventSources = eventSourcesFromFlags(values);
        if (policy === undefined && eventSources === undefined)
          throw new CliError('give a policy flag (--cron, --no-schedule, --keep-…) or an event source flag');
        return {
          ...(policy === undefined ? {} : { policy }),
          ...(eventSources === undefined ? {} : { event_sources: eventSources }),
        };
      },
    }),
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
    retention: retentionVerb('applyDSourceRetention', 'dsource-id'),
    space: recordVerb('getDSourceSpace', 'Space a dSource takes', 'dsource-id'),
  },
};
