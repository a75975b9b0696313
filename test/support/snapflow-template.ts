import { Template } from 'aws-cdk-lib/assertions';
import type { WorkflowName } from '../../lib/core/workflow-inputs';
import { buildSnapflowApp } from '../../lib/infra/build-app';
import { type ResolvedTemplate, resolveTemplate } from '../../lib/local/resolve-template';

let built: { template: Template; resolved: ResolvedTemplate } | undefined;

/** The Snapflow stack's template, synthesized once per test file without bundling, and its resolved ASL. */
export function snapflowTemplate(): { template: Template; resolved: ResolvedTemplate } {
  if (built !== undefined) return built;
  const { stack } = buildSnapflowApp({ bundle: false, validation: false });
  const template = Template.fromStack(stack);
  built = { template, resolved: resolveTemplate(template.toJSON()) };
  return built;
}

/** The plain ASL of one workflow. */
export function workflowDefinition(workflow: WorkflowName) {
  const machine = snapflowTemplate().resolved.workflows[workflow];
  if (machine === undefined) throw new Error(`The template has no ${workflow} workflow`);
  return machine.definition;
}
