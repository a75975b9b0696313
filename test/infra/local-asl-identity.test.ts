import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowInputSchemas } from '../../lib/core/workflow-inputs';
import { HostAgent } from '../../lib/local/host-agent';
import { LocalWorkflows } from '../../lib/local/local-workflows';
import { type CloudFormationTemplate, resolveTemplate } from '../../lib/local/resolve-template';
import { synthesizeTemplate } from '../../lib/local/start-local-mode';

const REPO_ROOT = resolve(__dirname, '..', '..');
const WORKFLOWS = Object.keys(workflowInputSchemas);

function definitionStrings(template: CloudFormationTemplate): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(template.Resources ?? {})
      .filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine')
      .map((resource) => [resource.Metadata?.SnapflowWorkflow, resource.Properties?.DefinitionString]),
  );
}

describe('local mode runs the ASL that deploys', () => {
  let work: string;
  let deployed: CloudFormationTemplate;
  let local: LocalWorkflows;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'snapflow-asl-'));
    // The real CLI, as `npm run synth` and `cdk deploy` run it: bundling and validation on.
    await promisify(execFile)(
      join(REPO_ROOT, 'node_modules/.bin/cdk'),
      ['synth', '--quiet', '--output', join(work, 'cdk.out')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_VALIDATION: 'true' },
      },
    );
    deployed = JSON.parse(await readFile(join(work, 'cdk.out', 'Snapflow.template.json'), 'utf8'));
    const hostAgent = new HostAgent({ documents: {}, hosts: {}, logDirectory: join(work, 'logs') });
    local = new LocalWorkflows(resolveTemplate(synthesizeTemplate()), { repoRoot: REPO_ROOT, hostAgent });
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('synthesizes every workflow in both', () => {
    expect(Object.keys(definitionStrings(deployed)).sort()).toEqual([...WORKFLOWS].sort());
    expect(local.workflowNames().sort()).toEqual([...WORKFLOWS].sort());
  });

  it.each(WORKFLOWS)('%s: the definition in the deployed template is the one local mode synthesizes', (workflow) => {
    expect(definitionStrings(synthesizeTemplate())[workflow]).toEqual(definitionStrings(deployed)[workflow]);
  });

  it.each(WORKFLOWS)('%s: the interpreter is given exactly the deployed ASL, resolved', (workflow) => {
    const deployedAsl = resolveTemplate(deployed).workflows[workflow]?.definition;
    expect(deployedAsl).toBeDefined();
    expect(JSON.stringify(local.asl(workflow))).toBe(JSON.stringify(deployedAsl));
  });
});
