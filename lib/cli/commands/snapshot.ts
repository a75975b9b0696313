import { listVerb, recordVerb, updateVerb } from '../api-verbs';
import { CliError, type CommandNoun, optionalFlag } from '../cli-command';
import { formatBytes } from '../format-quantity';

/** `snapflow snapshot …`: points in time of dSources and VDBs. */
export const snapshotCommand: CommandNoun = {
  noun: 'snapshot',
  summary: 'Snapshots: read-only points in time of dSources and VDBs',
  verbs: {
    list: listVerb({
      operationId: 'listSnapshots',
      summary: 'List snapshots, oldest first',
      byDataset: true,
      columns: [
        ['id', (record) => record.id],
        ['dataset', (record) => record.dataset_id],
        ['timeflow', (record) => record.timeflow_id],
        ['created', (record) => record.created_at],
        ['trigger', (record) => (record.provenance as { trigger: { kind: string } }).trigger.kind],
        [
          'copied',
          (record) => {
            const bytes = (record.provenance as { bytes_transferred?: number }).bytes_transferred;
            return bytes === undefined ? '' : formatBytes(bytes);
          },
        ],
        [
          'retention',
          (record) =>
            record.retain_forever === true
              ? 'forever'
              : record.expires_at === undefined
                ? ''
                : `expires ${String(record.expires_at)}`,
        ],
      ],
    }),
    show: recordVerb('getSnapshot', 'Show a snapshot with its provenance', 'snapshot-id'),
    'set-expiry': updateVerb({
      operationId: 'updateSnapshot',
      summary: 'Let retention delete a snapshot from a UTC time on (and keep it until then), or clear that',
      usage: '(--expires-at YYYY-MM-DDTHH:MM:SSZ | --clear)',
      idName: 'snapshot-id',
      flags: { 'expires-at': { type: 'string' }, clear: { type: 'boolean' } },
      body: (values) => {
        const expiresAt = optionalFlag(values, 'expires-at');
        if ((expiresAt === undefined) === (values.clear !== true))
          throw new CliError('give exactly one of --expires-at and --clear');
        return { expires_at: expiresAt ?? null };
      },
    }),
    retain: updateVerb({
      operationId: 'updateSnapshot',
      summary: 'Keep a snapshot whatever the retention policy says, or (--no-forever) let the policy decide again',
      usage: '[--forever | --no-forever]',
      idName: 'snapshot-id',
      flags: { forever: { type: 'boolean' }, 'no-forever': { type: 'boolean' } },
      body: (values) => {
        if (values.forever === true && values['no-forever'] === true)
          throw new CliError('give one of --forever and --no-forever');
        return { retain_forever: values['no-forever'] !== true };
      },
    }),
    space: recordVerb('getSnapshotSpace', 'Space a snapshot takes', 'snapshot-id'),
  },
};
