import { deleteVerb, listVerb, recordVerb } from '../api-verbs';
import type { CommandNoun } from '../cli-command';

/** `snapflow timeflow …`: lines of history of dSources and VDBs. */
export const timeflowCommand: CommandNoun = {
  noun: 'timeflow',
  summary: 'Timeflows: a VDB gets a new one from every refresh and rollback',
  verbs: {
    list: listVerb({
      operationId: 'listTimeflows',
      summary: 'List timeflows, oldest first',
      byDataset: true,
      columns: [
        ['id', (record) => record.id],
        ['dataset', (record) => record.dataset_id],
        ['kind', (record) => record.kind],
        ['parent snapshot', (record) => record.parent_snapshot_id],
        ['created', (record) => record.created_at],
      ],
    }),
    delete: deleteVerb('deleteTimeflow', "Delete a VDB's earlier timeflow and its snapshots", 'timeflow-id'),
    space: recordVerb('getTimeflowSpace', 'Space a timeflow takes', 'timeflow-id'),
  },
};
