import { describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  functionIdFromReference,
  resolveTemplate,
  stateMachineIdFromArn,
} from '../../../lib/local/resolve-template';

const template: CloudFormationTemplate = {
  Parameters: { Stage: { Type: 'String', Default: 'dev' } },
  Resources: {
    WorkFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Timeout: 30, MemorySize: 256 },
      Metadata: { SnapflowHandler: 'functions/work.ts' },
    },
    OtherFn: { Type: 'AWS::Lambda::Function', Properties: {} },
    MountDoc: {
      Type: 'AWS::SSM::Document',
      Properties: {
        DocumentType: 'Command',
        Content: {
          schemaVersion: '2.2',
          parameters: { MountPath: { type: 'String', allowedPattern: '^/[a-z]+$' } },
          mainSteps: [
            {
              action: 'aws:runShellScript',
              name: 'mount',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution syntax, not a template
              inputs: { runCommand: [{ 'Fn::Sub': 'echo ${AWS::Region} {{ MountPath }}' }] },
            },
          ],
        },
      },
      Metadata: { SnapflowDocument: 'mount' },
    },
    ChildMachine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
    },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Metadata: { SnapflowWorkflow: 'sync' },
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"',
              { 'Fn::GetAtt': ['WorkFn', 'Arn'] },
              '","Next":"Send"},"Send":{"Type":"Task","Resource":"arn:',
              { Ref: 'AWS::Partition' },
              ':states:::aws-sdk:ssm:sendCommand","Parameters":{"DocumentName":"',
              { Ref: 'MountDoc' },
              '","InstanceIds":["local"]},"Next":"Child"},"Child":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"',
              { Ref: 'ChildMachine' },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution syntax, not a template
              '"},"Next":"Note"},"Note":{"Type":"Pass","Result":{"stage":"${StageName}","logs":"',
              { 'Fn::GetAtt': 'Logs.Arn' },
              '","child":"',
              { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'ChildMachine' }] }] },
              '","where":"',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution syntax, not a template
              { 'Fn::Sub': ['${AWS::AccountId}/${Thing}/${!Literal}/${WorkFn.Arn}', { Thing: { Ref: 'Stage' } }] },
              '"},"End":true}}}',
            ],
          ],
        },
        DefinitionSubstitutions: { StageName: { Ref: 'Stage' } },
      },
    },
  },
};

describe('resolveTemplate', () => {
  it('resolves Join, Ref, GetAtt, Sub, Select, Split and DefinitionSubstitutions into plain ASL', () => {
    const resolved = resolveTemplate(template, { region: 'eu-west-1', accountId: '111122223333' });

    expect(resolved.workflows.sync?.logicalId).toBe('Machine');
    expect(resolved.workflows.sync?.definition).toEqual({
      StartAt: 'Work',
      States: {
        Work: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:111122223333:function:WorkFn', Next: 'Send' },
        Send: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ssm:sendCommand',
          Parameters: { DocumentName: 'MountDoc', InstanceIds: ['local'] },
          Next: 'Child',
        },
        Child: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:ChildMachine' },
          Next: 'Note',
        },
        Note: {
          Type: 'Pass',
          Result: {
            stage: 'dev',
            logs: 'arn:aws:logs:eu-west-1:111122223333:log-group:Logs:*',
            child: 'ChildMachine',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution syntax, not a template
            where: '111122223333/dev/${Literal}/arn:aws:lambda:eu-west-1:111122223333:function:WorkFn',
          },
          End: true,
        },
      },
    });
  });

  it('keeps every state machine by logical id, and names workflows only by their metadata', () => {
    const resolved = resolveTemplate(template);

    expect(Object.keys(resolved.stateMachines).sort()).toEqual(['ChildMachine', 'Machine']);
    expect(Object.keys(resolved.workflows)).toEqual(['sync']);
    expect(resolved.stateMachines.ChildMachine?.arn).toBe(
      'arn:aws:states:us-east-1:123456789012:stateMachine:ChildMachine',
    );
  });

  it('extracts documents by logical id with their kind, resolving intrinsics in the content', () => {
    const { documents } = resolveTemplate(template);

    expect(documents.MountDoc?.kind).toBe('mount');
    expect(documents.MountDoc?.content.mainSteps[0]?.inputs.runCommand).toEqual(['echo us-east-1 {{ MountPath }}']);
  });

  it('maps functions with SnapflowHandler metadata to their modules and Lambda settings', () => {
    const { functions } = resolveTemplate(template);

    expect(functions).toEqual({
      WorkFn: { logicalId: 'WorkFn', handler: 'functions/work.ts', timeoutSeconds: 30, memorySize: 256 },
    });
  });

  it('uses given parameter values over defaults', () => {
    const resolved = resolveTemplate(template, { parameters: { Stage: 'prod' } });

    expect(JSON.stringify(resolved.workflows.sync?.definition)).toContain('"stage":"prod"');
  });

  it('names the resource and path of an unsupported intrinsic', () => {
    const bad: CloudFormationTemplate = {
      Resources: {
        M: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: { 'Fn::ImportValue': 'x' } } },
      },
    };

    expect(() => resolveTemplate(bad)).toThrow('Unsupported intrinsic Fn::ImportValue at M.DefinitionString');
  });

  it('refuses a Ref to something the template does not define', () => {
    const bad: CloudFormationTemplate = {
      Resources: {
        M: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: { 'Fn::Join': ['', [{ Ref: 'Missing' }]] } },
        },
      },
    };

    expect(() => resolveTemplate(bad)).toThrow(/Ref to unknown parameter or resource Missing/);
  });

  it('refuses two state machines claiming the same workflow name', () => {
    const machine = {
      Type: 'AWS::StepFunctions::StateMachine',
      Metadata: { SnapflowWorkflow: 'link' },
      Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
    };

    expect(() => resolveTemplate({ Resources: { A: machine, B: machine } })).toThrow(
      'Workflow "link" is defined twice, by A and B',
    );
  });
});

describe('placeholder ARNs', () => {
  it('lead back to logical ids', () => {
    expect(stateMachineIdFromArn('arn:aws:states:us-east-1:123456789012:stateMachine:Sync1')).toBe('Sync1');
    expect(stateMachineIdFromArn('arn:aws:lambda:us-east-1:123456789012:function:Sync1')).toBeUndefined();
    expect(functionIdFromReference('arn:aws:lambda:us-east-1:123456789012:function:WorkFn')).toBe('WorkFn');
    expect(functionIdFromReference('arn:aws:lambda:us-east-1:123456789012:function:WorkFn:$LATEST')).toBe('WorkFn');
    expect(functionIdFromReference('WorkFn')).toBe('WorkFn');
    expect(functionIdFromReference('arn:aws:states:::lambda:invoke')).toBeUndefined();
  });
});
