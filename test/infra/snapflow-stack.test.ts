import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { TransientErrorNames } from '../../lib/core/errors';
import { type WorkflowName, workflowInputSchemas } from '../../lib/core/workflow-inputs';
import { buildSnapflowApp } from '../../lib/infra/build-app';
import { listStates } from '../../lib/local/list-states';
import { snapflowTemplate, workflowDefinition } from '../support/snapflow-template';

const root = join(__dirname, '..', '..');
const WORKFLOWS = Object.keys(workflowInputSchemas) as WorkflowName[];

describe('SnapflowStack', () => {
  const { template, resolved } = snapflowTemplate();

  it('has a Standard state machine for each workflow that has an input schema', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');

    const workflows = Object.values(machines).map((machine) => machine.Metadata?.SnapflowWorkflow);

    expect(workflows.sort()).toEqual([...WORKFLOWS].sort());
    for (const machine of Object.values(machines)) {
      expect(machine.Properties.StateMachineType).toBe('STANDARD');
      expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    }
  });

  it('gives every function a SnapflowHandler module that exists and the Snapflow defaults', () => {
    const functions = template.findResources('AWS::Lambda::Function');

    // Every handler module has its function, and each one function: steps shared by workflows share it.
    const modules = readdirSync(join(root, 'functions')).filter((file) => file.endsWith('.ts'));
    expect(
      Object.values(functions)
        .map((fn) => fn.Metadata?.SnapflowHandler)
        .sort(),
    ).toEqual(modules.map((file) => `functions/${file}`).sort());
    for (const [id, fn] of Object.entries(functions)) {
      const handler = fn.Metadata?.SnapflowHandler;
      expect(handler, id).toMatch(/^functions\/[a-z-]+\.ts$/);
      expect(existsSync(join(root, handler)), handler).toBe(true);
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    }
  });

  it('lets workflow steps that call the engine wait for its lock, under fetch’s 5 minutes, and the rest 30 s', () => {
    const notSteps = [
      'functions/api.ts',
      'functions/apply-schedules.ts',
      'functions/dispatch-event.ts',
      'functions/note-undo-failure.ts',
      'functions/raise-host-error.ts',
      'functions/report-export.ts',
      'functions/report-retention.ts',
      'functions/run-retention.ts',
    ];

    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const handler: string = fn.Metadata.SnapflowHandler;
      expect(fn.Properties.Timeout, handler).toBe(notSteps.includes(handler) ? 30 : 280);
    }
  });

  it('binds every function but the pure ones to the engine through the token secret', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const unbound = [
      'functions/raise-host-error.ts',
      'functions/report-export.ts',
      'functions/note-undo-failure.ts',
      'functions/report-retention.ts',
    ];

    for (const fn of functions) {
      const variables = fn.Properties.Environment?.Variables ?? {};
      const bound = !unbound.includes(fn.Metadata.SnapflowHandler);
      expect(
        Object.keys(variables)
          .filter((name) => name.startsWith('ENGINE_'))
          .sort(),
        fn.Metadata.SnapflowHandler,
      ).toEqual(bound ? ['ENGINE_TOKEN_SECRET_ARN', 'ENGINE_URL'] : []);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ENGINE_URL: 'http://engine.snapflow.internal:7750' } },
    });
  });

  it('scopes ssm:SendCommand to the documents each workflow runs, on instances tagged SnapflowHost=true', () => {
    const kindOf = new Map(
      Object.entries(template.findResources('AWS::SSM::Document')).map(([id, doc]) => [
        id,
        doc.Metadata.SnapflowDocument,
      ]),
    );
    const sent = (workflow: string) => {
      const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find(
        (candidate) => candidate.Metadata.SnapflowWorkflow === workflow,
      );
      const roleId = machine?.Properties.RoleArn['Fn::GetAtt'][0];
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
        policy.Properties.Roles.some((role: { Ref?: string }) => role.Ref === roleId),
      );
      const statements = policies
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) => statement.Action === 'ssm:SendCommand');
      const resourcesOf = (statement: { Resource: unknown }) =>
        [statement.Resource].flat().map((resource) => JSON.stringify(resource));
      const documents = statements.flatMap(resourcesOf).flatMap((resource) => {
        const id = /document\/","?\{"Ref":"([^"]+)"/.exec(resource)?.[1];
        return id === undefined ? [] : [kindOf.get(id)];
      });
      // Every statement on hosts carries the tag condition, and none on documents does.
      for (const statement of statements) {
        const onDocuments = resourcesOf(statement).every((resource) => resource.includes(':document/'));
        expect(statement.Condition, JSON.stringify(statement)).toEqual(
          onDocuments ? undefined : { StringEquals: { 'ssm:resourceTag/SnapflowHost': 'true' } },
        );
      }
      const others = statements.flatMap(resourcesOf).filter((resource) => !resource.includes(':document/'));
      return { documents: documents.sort(), others };
    };

    const expected: Record<WorkflowName, string[]> = {
      link: ['unmount'],
      sync: ['copy', 'mount', 'unmount'],
      provision: ['check-mount-point', 'mount', 'unmount'],
      refresh: ['mount', 'unmount'],
      rollback: ['mount', 'unmount'],
      'snapshot-vdb': [],
      export: ['export', 'mount', 'unmount'],
      'start-vdb': ['mount', 'unmount'],
      'stop-vdb': ['mount', 'unmount'],
      'enable-vdb': ['mount', 'unmount'],
      'disable-vdb': ['mount', 'unmount'],
      'delete-vdb': ['mount', 'unmount'],
      'delete-dsource': ['unmount'],
      retention: [],
    };
    for (const workflow of WORKFLOWS) expect(sent(workflow).documents, workflow).toEqual(expected[workflow]);
    for (const workflow of WORKFLOWS.filter((name) => expected[name].length > 0)) {
      const { others } = sent(workflow);
      expect(others.length).toBeGreaterThan(0);
      for (const arn of others) expect(arn).toMatch(/:(instance|managed-instance)\/\*"/);
    }
  });

  it('writes plain JSONPath ASL: no ResultPath "$", no JSONata, Parameters always objects', () => {
    for (const machine of Object.values(template.findResources('AWS::StepFunctions::StateMachine'))) {
      const definition = JSON.stringify(machine.Properties.DefinitionString);
      expect(definition).not.toMatch(/\\"ResultPath\\":\\"\$\\"/);
      expect(definition).not.toContain('JSONata');
      expect(definition).not.toContain('{%');
    }
    for (const { definition } of Object.values(resolved.workflows)) {
      for (const [name, state] of listStates(definition)) {
        expect((state as { ResultPath?: unknown }).ResultPath, name).not.toBe('$');
        expect((state as { QueryLanguage?: unknown }).QueryLanguage, name).toBeUndefined();
        const { Parameters } = state as { Parameters?: unknown };
        if (Parameters !== undefined) expect(typeof Parameters, `${name} Parameters`).toBe('object');
      }
    }
  });

  it('retries every Lambda task on the transient error names and Lambda service errors', () => {
    for (const [workflow, { definition }] of Object.entries(resolved.workflows)) {
      for (const [name, state] of listStates(definition)) {
        if (state.Type !== 'Task' || !/:lambda:/.test(state.Resource)) continue;
        const retried = (state.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
        expect(retried, `${workflow} ${name}`).toEqual(
          expect.arrayContaining([...TransientErrorNames, 'Lambda.ServiceException']),
        );
      }
    }
  });

  it('lets every Lambda task run as long as its function and its start, so the function’s timeout ends it first', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    for (const [workflow, { definition }] of Object.entries(resolved.workflows)) {
      for (const [name, state] of listStates(definition)) {
        if (state.Type !== 'Task' || !/:lambda:/.test(state.Resource)) continue;
        const logicalId = state.Resource.split(':function:')[1] ?? '';
        expect(state.TimeoutSeconds, `${workflow} ${name}`).toBe(functions[logicalId]?.Properties.Timeout + 10);
      }
    }
  });

  it('keeps the engine token in a generated secret', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true }),
    });
  });

  it('outputs every state machine ARN', () => {
    const outputs = Object.entries(template.findOutputs('*')).filter(([name]) => name.endsWith('StateMachineArn'));

    expect(outputs.map(([name]) => name).sort()).toEqual(
      [
        'Link',
        'Sync',
        'Provision',
        'Refresh',
        'Rollback',
        'SnapshotVdb',
        'Export',
        'StartVdb',
        'StopVdb',
        'EnableVdb',
        'DisableVdb',
        'DeleteVdb',
        'DeleteDSource',
        'Retention',
      ]
        .map((workflow) => `${workflow}StateMachineArn`)
        .sort(),
    );
    for (const [, output] of outputs) expect(output.Value).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
  });

  it('exposes every state machine by workflow name', () => {
    const { stack } = buildSnapflowApp({ bundle: false, validation: false });

    expect(Object.keys(stack.workflows).sort()).toEqual([...WORKFLOWS].sort());
    for (const [workflow, stateMachine] of Object.entries(stack.workflows)) {
      const resource = stateMachine.node.defaultChild as CfnStateMachine;
      expect(resource.cfnOptions.metadata).toEqual({ SnapflowWorkflow: workflow });
    }
  });

  // One readable snapshot per workflow, so that a change to the ASL shows up in review.
  it.each(WORKFLOWS)('%s definition matches its snapshot', (workflow) => {
    expect(workflowDefinition(workflow)).toMatchSnapshot();
  });
});

describe('buildSnapflowApp', () => {
  it('takes the copy timeout from context and refuses one SSM would not run', () => {
    const documentTimeout = (copyTimeoutSeconds: unknown) => {
      const { stack } = buildSnapflowApp({
        bundle: false,
        validation: false,
        context: { 'snapflow:copyTimeoutSeconds': copyTimeoutSeconds },
      });
      const copy = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Document')).find(
        (document) => document.Metadata.SnapflowDocument === 'copy',
      );
      return copy?.Properties.Content.mainSteps[0].inputs.timeoutSeconds;
    };

    expect(documentTimeout(7200)).toBe(7200);
    expect(() => documentTimeout(200_000)).toThrow('copyTimeout must be whole seconds from 1 to 172800');
    expect(() => documentTimeout('soon')).toThrow(
      'snapflow:copyTimeoutSeconds must be a whole number of seconds, got "soon"',
    );
  });

  it('refuses an engine URL that is not http(s)', () => {
    expect(() => buildSnapflowApp({ bundle: false, validation: false, engineUrl: 'engine:7750' })).toThrow(
      'engineUrl must be an http(s) URL',
    );
  });
});
