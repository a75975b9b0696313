import { type WorkflowName, workflowInputSchemas } from '../core/workflow-inputs';

const workflowNames = Object.keys(workflowInputSchemas) as WorkflowName[];

/**
 * Job ids are execution names, and an execution can only be found through its state machine. So the
 * id starts with the workflow's name (`provision-0123456789abcdef`): whoever holds a job id can find
 * its execution, with no lookup table to keep. Step Functions allows 80 characters of `[A-Za-z0-9_-]`.
 */
export const JOB_ID_PATTERN = `^(${workflowNames.join('|')})-[0-9a-f]{16}$`;

const jobIdPattern = new RegExp(JOB_ID_PATTERN);

/** A new job id for `workflow`; `hex` is 16 random hex digits. */
export function jobId(workflow: WorkflowName, hex: string): string {
  return `${workflow}-${hex}`;
}

/** The workflow a job id belongs to, or undefined when it is not a job id. */
export function workflowOfJob(id: string): WorkflowName | undefined {
  return jobIdPattern.exec(id)?.[1] as WorkflowName | undefined;
}
