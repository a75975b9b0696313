import { parseRsyncStats } from './record-snapshot';

/** What the export workflow knows once its copy has finished. */
export interface ReportExportInput {
  vdbId: string;
  snapshotId: string;
  targetPath: string;
  /** Standard output of the export command: rsync's `--stats` report. */
  exportOutput: string;
}

/** The export workflow's output. */
export interface ExportReport {
  vdbId: string;
  snapshotId: string;
  targetPath: string;
  filesTransferred?: number;
  bytesTransferred?: number;
}

/**
 * Reads what the export's rsync transferred from its `--stats` report: on a second export to the same
 * path, only what changed since the first.
 */
export async function reportExport(input: ReportExportInput): Promise<ExportReport> {
  return {
    vdbId: input.vdbId,
    snapshotId: input.snapshotId,
    targetPath: input.targetPath,
    ...parseRsyncStats(input.exportOutput),
  };
}
