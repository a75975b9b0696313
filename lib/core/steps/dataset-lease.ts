import { validate } from '../validate';
import { type WorkflowName, workflowInputSchemas } from '../workflow-inputs';
import { mustExist } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * The request field naming the dataset each leasing workflow changes. Link and provision take none:
 * the dataset they create is their own until they end (link's nested sync takes the new dSource's).
 */
export const LEASED_DATASET_FIELD = {
  sync: 'dsourceId',
  'delete-dsource': 'dsourceId',
  refresh: 'vdbId',
  rollback: 'vdbId',
  'snapshot-vdb': 'vdbId',
  export: 'vdbId',
  'start-vdb': 'vdbId',
  'stop-vdb': 'vdbId',
  'enable-vdb': 'vdbId',
  'disable-vdb': 'vdbId',
  'delete-vdb': 'vdbId',
  retention: 'datasetId',
} as const satisfies Partial<Record<WorkflowName, string>>;

export type LeasedWorkflow = keyof typeof LEASED_DATASET_FIELD;

export interface AcquireLeaseInput {
  /** Which workflow asks; its state machine says so. */
  workflow: LeasedWorkflow;
  /** The workflow's input. */
  request: unknown;
  /** The run taking the lease: its execution ARN. */
  holder: string;
  /** The longest the run can take; the lease lapses then should the run never release it. */
  ttlSeconds: number;
}

/**
 * First step of every workflow that changes a dSource or VDB: validates the workflow's input, then
 * takes the lease of the dataset it names, so that two runs never change one dataset at once. Taking
 * it again as the same holder (a retry after a lost answer) renews it.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming the dataset's field;
 *   DatasetBusyError while another run holds the lease, which the workflow retries with backoff:
 *   that is how a run queues behind another
 */
export async function acquireLease(
  input: AcquireLeaseInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ datasetId: string; expiresAt: string }> {
  const field = LEASED_DATASET_FIELD[input.workflow];
  const request = validate<Record<typeof field, string>>(workflowInputSchemas[input.workflow], input.request, 'input');
  const datasetId = request[field];
  const lease = await mustExist(field, datasetId, () =>
    engine.acquireLease(datasetId, { holder: input.holder, ttlSeconds: input.ttlSeconds }),
  );
  return { datasetId, expiresAt: lease.expiresAt };
}

/**
 * Last step of a leasing workflow, on success and after the undo of a failure: gives the lease back.
 * A lease another run holds (ours lapsed and was taken) or no one holds is left alone, and a dataset
 * the run deleted needs no lease, so it can run twice.
 */
export async function releaseLease(
  input: { datasetId: string; holder: string },
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ datasetId: string }> {
  await engine.releaseLease(input.datasetId, input.holder);
  return { datasetId: input.datasetId };
}
