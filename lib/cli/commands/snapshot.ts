import { listVerb, recordVerb } from '../api-verbs';
import type { CommandNoun } from '../cli-command';
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
      ],
    }),
    show: recordVerb('getSnapshot', 'Show a snapshot with its provenance', 'snapshot-id'),
    space: recordVerb('getSnapshotSpace', 'Space a snapshot takes', 'snapshot-id'),
  },
};
