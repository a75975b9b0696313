import middy from '@middy/core';
import { type ReportExportInput, reportExport } from '../lib/core/steps/report-export';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the export workflow's ReportExport task: runs {@link reportExport}. */
export const handler = middy<ReportExportInput>()
  .use(snapflowErrors())
  .handler(async (event) => reportExport(event));
