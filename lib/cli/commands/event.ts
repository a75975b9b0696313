import { sourceChangedEntry } from '../../api/dispatch-entries';
import { reportJob } from '../api-verbs';
import { CliError, type CommandNoun, optionalFlag } from '../cli-command';
import { followJob, type JobView } from '../follow-job';

/** What `POST /events` answers for one entry. */
interface AcceptedEntry {
  event_id: string;
  jobs: JobView[];
}

/** `snapflow event …`: events that start syncs, as EventBridge delivers them on AWS. */
export const eventCommand: CommandNoun = {
  noun: 'event',
  summary: 'Events: put a "Source Data Changed" event, which syncs the dSources it names',
  verbs: {
    send: {
      summary:
        'Put a "Source Data Changed" event naming a dSource, or a source path on a host; follows the syncs it starts',
      usage: '(--dsource ID | --source-host HOST --source-path DIR)',
      operationId: 'putEvents',
      flags: { dsource: { type: 'string' }, 'source-host': { type: 'string' }, 'source-path': { type: 'string' } },
      startsJob: true,
      async run(context) {
        const { io, values } = context;
        const dsourceId = optionalFlag(values, 'dsource');
        const sourceHost = optionalFlag(values, 'source-host');
        const sourcePath = optionalFlag(values, 'source-path');
        if ((dsourceId === undefined) === (sourceHost === undefined && sourcePath === undefined))
          throw new CliError('give --dsource, or --source-host with --source-path');
        if (dsourceId === undefined && (sourceHost === undefined || sourcePath === undefined))
          throw new CliError('--source-host and --source-path go together');
        const entry = sourceChangedEntry(
          dsourceId === undefined
            ? { sourceHost: sourceHost as string, sourcePath: sourcePath as string }
            : { dsourceId },
        );
        const api = await context.api();
        const answer = await api.call<{ entries: AcceptedEntry[] }>('putEvents', { body: { Entries: [entry] } });
        const accepted = answer.entries[0] as AcceptedEntry;
        const started = accepted.jobs.map((job) => job.id).join(', ');
        if (!context.json && !context.quiet)
          io.out(
            `Event ${accepted.event_id}: ${started === '' ? 'no dSource matched; nothing started' : `started ${started}`}`,
          );
        if (values['no-wait'] === true || accepted.jobs.length === 0) {
          if (context.json) io.out(JSON.stringify(accepted, null, 2));
          else if (context.quiet) for (const job of accepted.jobs) io.out(job.id);
          return 0;
        }
        const ended: JobView[] = [];
        for (const job of accepted.jobs) ended.push(await followJob(api, job, io));
        if (context.json) {
          io.out(JSON.stringify({ ...accepted, jobs: ended }, null, 2));
          return ended.every((job) => job.status === 'SUCCEEDED') ? 0 : 1;
        }
        let code = 0;
        for (const job of ended) code = Math.max(code, await reportJob(context, job, 'snapshot'));
        return code;
      },
    },
  },
};
