import type { ApiClient } from '../adapters/api-client';
import type { Presented } from '../api/present';
import type { CliIo } from './cli-command';
import { formatDuration } from './format-quantity';

/** A job as the API answers it. */
export type JobView = Presented<'job'>;

/** How often the job is read while it runs. */
export const POLL_INTERVAL_MS = 500;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Follows a job to its end by reading `GET /jobs/{id}` every {@link POLL_INTERVAL_MS}, showing on
 * stderr which step it is on: on a terminal as one line redrawn in place with the time it has run,
 * elsewhere (a log, a pipe) as a line per step it enters, with when it entered it. Steps are named as
 * the workflow names them; the states inside a step (`MountTarget.Poll`) count as that step.
 * Resolves to the job as it ended.
 */
export async function followJob(api: ApiClient, started: JobView, io: CliIo): Promise<JobView> {
  const since = io.now();
  const label = `${started.workflow}${started.target_id === undefined ? '' : ` ${started.target_id}`}`;
  let job = started;
  let shown = 0;
  let lastStep: string | undefined;
  let frame = 0;
  for (;;) {
    if (io.progress === undefined) {
      for (const step of job.steps.slice(shown)) {
        const name = stepName(step.name);
        if (name === lastStep) continue;
        lastStep = name;
        const offset = Date.parse(step.started_at) - Date.parse(job.started_at);
        io.err(`${`+${formatDuration(Math.max(0, offset))}`.padStart(9)}  ${label}: ${name}`);
      }
      shown = job.steps.length;
    } else if (job.status === 'RUNNING') {
      const step = job.steps.at(-1);
      const name = step === undefined ? 'starting' : stepName(step.name);
      io.progress(`${SPINNER[frame % SPINNER.length]} ${label} · ${name} · ${formatDuration(io.now() - since)}`);
      frame += 1;
    } else {
      io.progress('');
    }
    if (job.status !== 'RUNNING') return job;
    await io.sleep(POLL_INTERVAL_MS);
    job = await api.call<JobView>('getJob', { id: job.id });
  }
}

/** `MountTarget.Poll` → `MountTarget`: a reusable fragment's states are one step to the user. */
function stepName(state: string): string {
  return state.split('.')[0] ?? state;
}
