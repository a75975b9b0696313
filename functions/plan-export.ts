import middy from '@middy/core';
import { type PlanExportInput, planExport } from '../lib/core/steps/plan-export';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the export workflow's PlanExport task: runs {@link planExport}. */
export const handler = middy<PlanExportInput>()
  .use(snapflowErrors())
  .handler(async (event) => planExport(event, await stepPorts()));
