import middy from '@middy/core';
import { type ReportRetentionInput, reportRetention } from '../lib/core/steps/report-retention';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the retention workflow's ReportRetention task: runs {@link reportRetention}. */
export const handler = middy<ReportRetentionInput>()
  .use(snapflowErrors())
  .handler(async (event) => reportRetention(event));
