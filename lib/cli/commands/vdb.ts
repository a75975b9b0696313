import { jobVerb, listVerb, recordVerb, updateVerb } from '../api-verbs';
import { CliError, type CommandNoun, optionalFlag, requiredFlag, type Verb } from '../cli-command';
import {
  DEFAULT_WIRE_POLICY,
  POLICY_USAGE,
  policyFlags,
  policyFromFlags,
  retentionVerb,
  type WirePolicy,
} from '../policy-flags';

function lifecycle(operationId: 'startVdb' | 'stopVdb' | 'enableVdb' | 'disableVdb', summary: string): Verb {
  return jobVerb({ operationId, summary, usage: '<vdb-id>', positionals: ['vdb-id'], body: () => ({}) });
}

/** `snapflow vdb …`: virtual datasets. */
export const vdbCommand: CommandNoun = {
  noun: 'vdb',
  summary: 'VDBs: writable thin clones of snapshots, mounted on hosts',
  verbs: {
    provision: jobVerb({
      operationId: 'provisionVdbBySnapshot',
      summary: 'Provision a VDB from a snapshot, or from the latest snapshot of a dSource or VDB',
      usage: `--name NAME (--snapshot ID | --source-data ID) --environment ID --mount-location DIR ${POLICY_USAGE}`,
      flags: {
        ...policyFlags,
        name: { type: 'string' },
        snapshot: { type: 'string' },
        'source-data': { type: 'string' },
        environment: { type: 'string' },
        'mount-location': { type: 'string' },
      },
      body: (values) => {
        const snapshot = optionalFlag(values, 'snapshot');
        const sourceData = optionalFlag(values, 'source-data');
        if ((snapshot === undefined) === (sourceData === undefined))
          throw new CliError('give exactly one of --snapshot and --source-data');
        const policy = policyFromFlags(values, DEFAULT_WIRE_POLICY);
        return {
          name: requiredFlag(values, 'name'),
          ...(snapshot === undefined ? {} : { snapshot_id: snapshot }),
          ...(sourceData === undefined ? {} : { source_data_id: sourceData }),
          environment_id: requiredFlag(values, 'environment'),
          virtual_source: { mountLocation: requiredFlag(values, 'mount-location') },
          ...(policy === undefined ? {} : { policy }),
        };
      },
    }),
    list: listVerb({
      operationId: 'listVdbs',
      summary: 'List VDBs',
      columns: [
        ['id', (record) => record.id],
        ['name', (record) => record.name],
        ['status', (record) => (record.enabled === false ? `${String(record.status)} (disabled)` : record.status)],
        ['mount location', (record) => (record.virtual_source as { mountLocation?: string }).mountLocation],
        ['environment', (record) => record.environment_id],
        ['parent snapshot', (record) => record.parent_snapshot_id],
      ],
    }),
    show: recordVerb('getVdb', 'Show a VDB with its snapshot policy', 'vdb-id'),
    'set-policy': updateVerb({
      operationId: 'updateVdb',
      read: 'getVdb',
      summary: "Change a VDB's snapshot schedule or retention; flags change only what they name",
      usage: POLICY_USAGE,
      idName: 'vdb-id',
      flags: policyFlags,
      body: (values, current) => {
        const policy = policyFromFlags(values, current?.policy as WirePolicy);
        if (policy === undefined) throw new CliError('give a policy flag: --cron, --no-schedule or --keep-…');
        return { policy };
      },
    }),
    refresh: jobVerb({
      operationId: 'refreshVdbBySnapshot',
      summary: "Refresh from a snapshot of the parent (default: the parent's latest)",
      usage: '<vdb-id> [--snapshot ID]',
      positionals: ['vdb-id'],
      flags: { snapshot: { type: 'string' } },
      body: (values) => {
        const snapshot = optionalFlag(values, 'snapshot');
        return snapshot === undefined ? {} : { snapshot_id: snapshot };
      },
    }),
    rollback: jobVerb({
      operationId: 'rollbackVdbBySnapshot',
      summary: "Roll back to one of the VDB's own snapshots",
      usage: '<vdb-id> --snapshot ID',
      positionals: ['vdb-id'],
      flags: { snapshot: { type: 'string' } },
      body: (values) => ({ snapshot_id: requiredFlag(values, 'snapshot') }),
    }),
    snapshot: jobVerb({
      operationId: 'snapshotVdb',
      summary: 'Snapshot the VDB as it is now',
      usage: '<vdb-id>',
      positionals: ['vdb-id'],
      body: () => ({}),
      resultId: 'snapshot',
    }),
    export: jobVerb({
      operationId: 'exportVdb',
      summary: 'Copy a snapshot of the VDB (default: its latest) to a directory on a host',
      usage: '<vdb-id> --environment ID --target-path DIR [--snapshot ID]',
      positionals: ['vdb-id'],
      flags: { environment: { type: 'string' }, 'target-path': { type: 'string' }, snapshot: { type: 'string' } },
      body: (values) => {
        const snapshot = optionalFlag(values, 'snapshot');
        return {
          ...(snapshot === undefined ? {} : { snapshot_id: snapshot }),
          environment_id: requiredFlag(values, 'environment'),
          target_path: requiredFlag(values, 'target-path'),
        };
      },
    }),
    start: lifecycle('startVdb', 'Mount a stopped VDB again'),
    stop: lifecycle('stopVdb', 'Unmount a VDB, keeping its data'),
    enable: lifecycle('enableVdb', 'Enable a disabled VDB'),
    disable: lifecycle('disableVdb', 'Unconfigure and unmount a VDB until enabled'),
    delete: jobVerb({
      operationId: 'deleteVdb',
      summary: 'Unmount and delete a VDB (refused while VDBs were provisioned from it)',
      usage: '<vdb-id>',
      positionals: ['vdb-id'],
    }),
    retention: retentionVerb('applyVdbRetention', 'vdb-id'),
    space: recordVerb('getVdbSpace', 'Space a VDB takes', 'vdb-id'),
  },
};
