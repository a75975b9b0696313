import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSnapflowApp } from '../../lib/infra/build-app';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations?: { ruleName: string; violatingResources: { resourcePath: string }[] }[];
  }[];
}

describe('cdk-nag AWS Solutions checks', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'snapflow-nag-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('find nothing that is not acknowledged with a reason', () => {
    const { app } = buildSnapflowApp({ bundle: false, validation: false, nag: true, outdir });

    // Under vitest synth throws when a rule is violated; the report says which.
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
        violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.resourcePath}`),
      ),
    );
    expect(findings).toEqual([]);
    expect(thrown).toBeUndefined();
  });
});
