import type { OperationId } from '../api/routes';
import { formatTable } from '../core/format-table';
import { type CommandContext, type FlagSpec, type FlagValues, optionalFlag, type Verb } from './cli-command';
import { followJob, type JobView } from './follow-job';
import { formatBytes, formatDuration } from './format-quantity';
import { cell, recordTable } from './record-table';

/**
 * Verbs made from a route of the API: each calls one route through the API client and prints the
 * answer as a table for people, the JSON itself with --json, or only the id with --quiet.
 */

/** A table column: its header and how a record fills it. */
export type Column = readonly [header: string, value: (record: Record<string, unknown>) => unknown];

/** The id flag a list takes to show one dSource's or VDB's records only. */
const datasetFlag = { dataset: { type: 'string' } } as const satisfies Record<string, FlagSpec>;

/** `list`: every record, as a table with `columns`. */
export function listVerb(options: {
  operationId: OperationId;
  summary: string;
  columns: readonly Column[];
  /** Takes `--dataset ID` to list one dSource's or VDB's only. */
  byDataset?: boolean;
}): Verb {
  return {
    summary: options.summary,
    usage: options.byDataset === true ? '[--dataset ID]' : '',
    operationId: options.operationId,
    ...(options.byDataset === true ? { flags: datasetFlag } : {}),
    async run(context) {
      const records = await (await context.api()).call<Record<string, unknown>[]>(options.operationId, {
        query: { dataset_id: optionalFlag(context.values, 'dataset') },
      });
      if (context.json) context.io.out(JSON.stringify(records, null, 2));
      else if (context.quiet) for (const record of records) context.io.out(cell(record.id));
      else
        context.io.out(
          formatTable(
            options.columns.map(([header]) => header),
            records.map((record) => options.columns.map(([, value]) => cell(value(record)))),
          ),
        );
      return 0;
    },
  };
}

/** `show <id>` and the like: one record by id, as a field/value table. */
export function recordVerb(operationId: OperationId, summary: string, idName: string): Verb {
  return {
    summary,
    usage: `<${idName}>`,
    operationId,
    positionals: [idName],
    async run(context) {
      const record = await (await context.api()).call<Record<string, unknown>>(operationId, {
        id: context.positionals[0] as string,
      });
      printRecord(context, record);
      return 0;
    },
  };
}

/** `add`: makes a record from flags and prints it. */
export function createVerb(options: {
  operationId: OperationId;
  summary: string;
  usage: string;
  flags: Readonly<Record<string, FlagSpec>>;
  body: (values: FlagValues) => Record<string, unknown>;
}): Verb {
  return {
    summary: options.summary,
    usage: options.usage,
    operationId: options.operationId,
    flags: options.flags,
    async run(context) {
      const record = await (await context.api()).call<Record<string, unknown>>(options.operationId, {
        body: options.body(context.values),
      });
      printRecord(context, record);
      return 0;
    },
  };
}

/**
 * `set-policy <id>` and the like: sends a change of one record (PATCH) and prints the record as it is
 * then. With `read`, the record is read first, so that the flags can change only what they name.
 */
export function updateVerb(options: {
  operationId: OperationId;
  summary: string;
  usage: string;
  idName: string;
  flags: Readonly<Record<string, FlagSpec>>;
  /** The route that reads the record before the change. */
  read?: OperationId;
  /** The change; `current` is the record as `read` answered it. */
  body: (values: FlagValues, current: Record<string, unknown> | undefined) => Record<string, unknown>;
}): Verb {
  return {
    summary: options.summary,
    usage: `<${options.idName}> ${options.usage}`,
    operationId: options.operationId,
    positionals: [options.idName],
    flags: options.flags,
    async run(context) {
      const api = await context.api();
      const id = context.positionals[0] as string;
      const current =
        options.read === undefined ? undefined : await api.call<Record<string, unknown>>(options.read, { id });
      const record = await api.call<Record<string, unknown>>(options.operationId, {
        id,
        body: options.body(context.values, current),
      });
      printRecord(context, record);
      return 0;
    },
  };
}

/** `delete <id>` of a record the engine deletes at once (204). */
export function deleteVerb(operationId: OperationId, summary: string, idName: string): Verb {
  return {
    summary,
    usage: `<${idName}>`,
    operationId,
    positionals: [idName],
    async run(context) {
      const id = context.positionals[0] as string;
      await (await context.api()).call(operationId, { id });
      if (context.json) context.io.out(JSON.stringify({ deleted: id }));
      else if (!context.quiet) context.io.out(`Deleted ${id}.`);
      return 0;
    },
  };
}

/** Which id `--quiet` prints once a job has succeeded. */
export type ResultId = 'target' | 'snapshot';

/**
 * A verb that starts a job: sends the request, then (unless --no-wait) follows the job with a live
 * progress display until it ends. Exits 0 when the job succeeded, 1 with the job's error message and
 * action when it did not.
 */
export function jobVerb(options: {
  operationId: OperationId;
  summary: string;
  usage: string;
  positionals?: readonly string[];
  flags?: Readonly<Record<string, FlagSpec>>;
  body?: (values: FlagValues) => Record<string, unknown>;
  /** @default 'target' */
  resultId?: ResultId;
}): Verb {
  return {
    summary: options.summary,
    usage: options.usage,
    operationId: options.operationId,
    ...(options.positionals === undefined ? {} : { positionals: options.positionals }),
    ...(options.flags === undefined ? {} : { flags: options.flags }),
    startsJob: true,
    async run(context) {
      const api = await context.api();
      const started = await api.call<{ job: JobView }>(options.operationId, {
        ...(context.positionals[0] === undefined ? {} : { id: context.positionals[0] }),
        ...(options.body === undefined ? {} : { body: options.body(context.values) }),
      });
      if (context.values['no-wait'] === true) {
        if (context.json) context.io.out(JSON.stringify(started, null, 2));
        else if (context.quiet) context.io.out(started.job.id);
        else
          context.io.out(
            `Started job ${started.job.id} (${describeTarget(started.job)}); follow it with: snapflow job wait ${started.job.id}`,
          );
        return 0;
      }
      return reportJob(context, await followJob(api, started.job, context.io), options.resultId ?? 'target');
    },
  };
}

/**
 * Prints how a job ended: its JSON with --json, the id of what it made with --quiet, else a line
 * with its duration and output (and for a link or sync, what the copy transferred), followed by the
 * output's `report` when it has one (retention's table of what it kept and deleted). A job that did not succeed
 * has its error's message and action printed on stderr, and exits 1.
 */
export async function reportJob(context: CommandContext, job: JobView, resultId: ResultId): Promise<number> {
  const { io } = context;
  const output = (job.output ?? {}) as Record<string, unknown>;
  if (context.json) io.out(JSON.stringify(job, null, 2));
  if (job.status !== 'SUCCEEDED') {
    const error = job.error;
    io.err(`snapflow: job ${job.id} ${job.status}${error === undefined ? '' : `: ${error.code}: ${error.message}`}`);
    if (error !== undefined) io.err(`  what to do: ${error.action}`);
    return 1;
  }
  if (context.json) return 0;
  if (context.quiet) {
    io.out(cell(resultId === 'snapshot' ? output.snapshot_id : job.target_id));
    return 0;
  }
  const took =
    job.ended_at === undefined ? '' : ` in ${formatDuration(Date.parse(job.ended_at) - Date.parse(job.started_at))}`;
  // The line carries the plain values; lists stay in --json, and a report (retention's table of what
  // it kept and deleted, and why) is printed whole below the line.
  const details = Object.entries(output)
    .filter(([key, value]) => key !== 'report' && (value === null || typeof value !== 'object'))
    .map(([key, value]) => `${key} ${cell(value)}`);
  io.out(`${job.id} SUCCEEDED${took}${details.length === 0 ? '' : `: ${details.join(', ')}`}`);
  if (typeof output.report === 'string') io.out(output.report);
  // Only link and sync copy; other jobs name a snapshot they did not make by copying.
  if ((job.workflow === 'sync' || job.workflow === 'link') && typeof output.snapshot_id === 'string') {
    const copied = await copyStats(context, output.snapshot_id);
    if (copied !== undefined) io.out(copied);
  }
  return 0;
}

/** What the copy of a sync transferred, from its snapshot's provenance; undefined when nothing was copied. */
async function copyStats(context: CommandContext, snapshotId: string): Promise<string | undefined> {
  const snapshot = await (await context.api()).call<{
    provenance: { files_transferred?: number; bytes_transferred?: number };
  }>('getSnapshot', { id: snapshotId });
  const { files_transferred: files, bytes_transferred: bytes } = snapshot.provenance;
  if (files === undefined && bytes === undefined) return undefined;
  return `copied ${files ?? '?'} ${files === 1 ? 'file' : 'files'}, ${bytes === undefined ? '?' : formatBytes(bytes)}`;
}

function describeTarget(job: JobView): string {
  return job.target_id === undefined ? job.workflow : `${job.workflow} ${job.target_id}`;
}

function printRecord(context: CommandContext, record: Record<string, unknown>): void {
  if (context.json) context.io.out(JSON.stringify(record, null, 2));
  else if (context.quiet) context.io.out(cell(record.id));
  else context.io.out(recordTable(record));
}
