import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { buildSnapflowApp } from '../../lib/infra/build-app';

/** `cdk.out/validation-report.json`, as far as the test reads it. */
interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion?: string;
    violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/**
 * Synthesizes the app with cdk-nag's AWS Solutions rules and answers the findings, as
 * `rule at construct path`, and whether synth threw (under vitest it throws on a violation).
 *
 * @param addViolation adds a construct to the stack before synth, for the control below
 */
function nagFindings(addViolation?: (stack: ReturnType<typeof buildSnapflowApp>['stack']) => void) {
  const outdir = mkdtempSync(join(tmpdir(), 'snapflow-nag-'));
  try {
    const { app, stack } = buildSnapflowApp({ bundle: false, validation: false, nag: true, outdir });
    addViolation?.(stack);
    let thrown: unknown;
    try {
      app.synth();
    } catch (error) {
      thrown = error;
    }
    const reportFile = join(outdir, 'validation-report.json');
    const report: ValidationReport = existsSync(reportFile)
      ? JSON.parse(readFileSync(reportFile, 'utf8'))
      : { pluginReports: [] };
    const findings = report.pluginReports.flatMap((plugin) =>
      (plugin.violations ?? []).flatMap((violation) =>
        violation.violatingConstructs.map((construct) => `${violation.ruleName} at ${construct.constructPath}`),
      ),
    );
    return { findings, thrown, plugins: report.pluginReports.map((plugin) => plugin.pluginName) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cdk-nag AWS Solutions checks', () => {
  it('find nothing that is not acknowledged with a reason', () => {
    const { findings, thrown } = nagFindings();

    expect(findings).toEqual([]);
    expect(thrown).toBeUndefined();
  });

  // The control: a clean run reports as little as one where no rule ran, so a known violation must show.
  it('are wired in: a queue without SSL enforcement is reported, and fails the synth', () => {
    const { findings, thrown, plugins } = nagFindings((stack) => new sqs.Queue(stack, 'NagControlQueue'));

    expect(plugins.some((name) => /AwsSolutions/i.test(name))).toBe(true);
    expect(findings).toEqual(expect.arrayContaining(['AwsSolutions-SQS4 at Snapflow/NagControlQueue/Resource']));
    expect(thrown).toBeDefined();
  });
});
