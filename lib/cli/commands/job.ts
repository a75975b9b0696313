import { formatTable } from '../../core/format-table';
import { reportJob } from '../api-verbs';
import type { CommandNoun } from '../cli-command';
import { followJob, type JobView } from '../follow-job';
import { formatDuration } from '../format-quantity';
import { recordTable } from '../record-table';

/** `snapflow job …`: workflow executions the API started. */
export const jobCommand: CommandNoun = {
  noun: 'job',
  summary: 'Jobs: one workflow execution each, started by the commands that change things',
  verbs: {
    show: {
      summary: 'Show a job with its steps and their timings',
      usage: '<job-id>',
      operationId: 'getJob',
      positionals: ['job-id'],
      async run(context) {
        const job = await (await context.api()).call<JobView>('getJob', { id: context.positionals[0] as string });
        if (context.json) {
          context.io.out(JSON.stringify(job, null, 2));
          return 0;
        }
        const { steps, ...summary } = job;
        context.io.out(recordTable(summary));
        context.io.out('');
        context.io.out(
          formatTable(
            ['step', 'status', 'started', 'duration'],
            steps.map((step) => [
              step.name,
              step.status,
              step.started_at,
              step.duration_ms === undefined ? '' : formatDuration(step.duration_ms),
            ]),
          ),
        );
        return 0;
      },
    },
    wait: {
      summary: 'Follow a job to its end; exits non-zero when it fails',
      usage: '<job-id>',
      operationId: 'getJob',
      positionals: ['job-id'],
      async run(context) {
        const api = await context.api();
        const job = await api.call<JobView>('getJob', { id: context.positionals[0] as string });
        return reportJob(context, await followJob(api, job, context.io), 'target');
      },
    },
  },
};
