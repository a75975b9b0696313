import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { executionEndedPattern, SOURCE_CHANGED_PATTERN, s3ObjectCreatedPattern } from '../../lib/core/event-patterns';
import { buildSnapflowApp } from '../../lib/infra/build-app';
import { s3EventBucketsFromContext } from '../../lib/infra/triggers/event-triggers';
import { RetentionTrigger } from '../../lib/infra/triggers/retention-trigger';
import { snapflowTemplate } from '../support/snapflow-template';

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Reads a synthesized template the way these assertions need it. */
function inspect(template: Template) {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const functionOf = (handler: string) => {
    const found = ofType('AWS::Lambda::Function').find(([, fn]) => fn.Metadata?.SnapflowHandler === handler);
    if (found === undefined) throw new Error(`no function runs ${handler}`);
    return found;
  };
  const roleOf = (handler: string) =>
    (functionOf(handler)[1].Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statementsOf = (roleId: string): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const actions = (statement: Statement) => [statement.Action].flat();
  /** The logical ids of what a role may start executions of. */
  const startsOf = (roleId: string) =>
    statementsOf(roleId)
      .filter((statement) => actions(statement).some((action) => /^states:(StartExecution|\*)$/.test(action)))
      .flatMap((statement) =>
        [statement.Resource].flat().map((resource) => (resource as { Ref?: string }).Ref ?? resource),
      )
      .sort();
  const rules = ofType('AWS::Events::Rule');
  const ruleTargeting = (handler: string) =>
    rules.filter(([, rule]) =>
      (rule.Properties.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[]).some(
        (target) => target.Arn['Fn::GetAtt'][0] === functionOf(handler)[0],
      ),
    );
  return { resources, ofType, functionOf, roleOf, statementsOf, startsOf, ruleTargeting };
}

describe('triggers in the Snapflow stack', () => {
  const { template } = snapflowTemplate();
  const { ofType, roleOf, statementsOf, startsOf, ruleTargeting } = inspect(template);
  const machine = (workflow: string) => {
    const found = ofType('AWS::StepFunctions::StateMachine').find(
      ([, sm]) => sm.Metadata?.SnapflowWorkflow === workflow,
    );
    if (found === undefined) throw new Error(`no ${workflow} state machine`);
    return found[0];
  };

  it('sends "Source Data Changed" events to dispatch-event, with the core pattern itself', () => {
    const rules = ruleTargeting('functions/dispatch-event.ts');

    expect(rules.map(([, rule]) => rule.Properties.EventPattern)).toEqual([SOURCE_CHANGED_PATTERN]);
    expect(rules[0]?.[1].Properties).toMatchObject({ State: 'ENABLED' });
    expect(rules[0]?.[1].Properties.EventBusName).toBeUndefined();
  });

  it('has no S3 rule unless buckets are configured, and then the core S3 pattern for them', () => {
    expect(JSON.stringify(ofType('AWS::Events::Rule'))).not.toContain('aws.s3');

    const { stack } = buildSnapflowApp({
      bundle: false,
      validation: false,
      context: { 'snapflow:s3EventBuckets': ['app-drops', 'reports.example.com'] },
    });
    const patterns = inspect(Template.fromStack(stack))
      .ruleTargeting('functions/dispatch-event.ts')
      .map(([, rule]) => rule.Properties.EventPattern);

    expect(patterns).toEqual([SOURCE_CHANGED_PATTERN, s3ObjectCreatedPattern(['app-drops', 'reports.example.com'])]);
  });

  it('lets dispatch-event start the sync state machine and nothing else', () => {
    expect(startsOf(roleOf('functions/dispatch-event.ts'))).toEqual([machine('sync')]);
    const actions = statementsOf(roleOf('functions/dispatch-event.ts')).flatMap((statement) =>
      [statement.Action].flat(),
    );
    expect(actions.filter((action) => action.startsWith('states:'))).toEqual(['states:StartExecution']);
  });

  it('has a schedule group and a Scheduler role that only Scheduler, for this account and group, may assume', () => {
    const [[groupId]] = ofType('AWS::Scheduler::ScheduleGroup') as [[string, Resource]];
    const roles = ofType('AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    );

    expect(roles).toHaveLength(1);
    expect(roles[0]?.[1].Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] },
            },
          },
        },
      ],
    });
  });

  it('lets the Scheduler role start the sync and snapshot-vdb state machines and do nothing else', () => {
    const [[roleId]] = ofType('AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    ) as [[string, Resource]];

    expect(startsOf(roleId)).toEqual([machine('sync'), machine('snapshot-vdb')].sort());
    expect(statementsOf(roleId).flatMap((statement) => [statement.Action].flat())).toEqual([
      'states:StartExecution',
      'states:StartExecution',
    ]);
  });

  it('runs apply-schedules when a workflow that creates or deletes a dataset ends, with the core pattern', () => {
    const rules = ruleTargeting('functions/apply-schedules.ts');
    const arns = ['link', 'provision', 'delete-dsource', 'delete-vdb'].map((workflow) => ({ Ref: machine(workflow) }));

    expect(rules.map(([, rule]) => rule.Properties.EventPattern)).toEqual([
      executionEndedPattern(arns as unknown as string[]),
    ]);
  });

  it('lets apply-schedules write only the schedules of the group and pass only the Scheduler role', () => {
    const statements = statementsOf(roleOf('functions/apply-schedules.ts'));
    const [[, group]] = ofType('AWS::Scheduler::ScheduleGroup') as [[string, Resource]];
    const [[schedulerRoleId]] = ofType('AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    ) as [[string, Resource]];

    expect(startsOf(roleOf('functions/apply-schedules.ts'))).toEqual([]);
    const scheduling = statements.filter((statement) => JSON.stringify(statement.Action).includes('scheduler:'));
    expect(scheduling.flatMap((statement) => [statement.Action].flat()).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
    ]);
    for (const statement of scheduling) {
      expect(JSON.stringify(statement.Resource)).toContain(`:schedule/${group.Properties.Name}/*`);
    }
    const passes = statements.filter((statement) => statement.Action === 'iam:PassRole');
    expect(passes.map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [schedulerRoleId, 'Arn'] }]);
  });

  it('tells the functions where the schedules go', () => {
    const { functionOf } = inspect(template);
    const variables = (
      functionOf('functions/apply-schedules.ts')[1].Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(['SCHEDULE_GROUP_NAME', 'SCHEDULER_ROLE_ARN', 'SCHEDULE_TARGET_ARNS']),
    );
    expect(
      (functionOf('functions/dispatch-event.ts')[1].Properties.Environment as { Variables: Record<string, unknown> })
        .Variables.SYNC_STATE_MACHINE_ARN,
    ).toEqual({ Ref: machine('sync') });
  });
});

describe('RetentionTrigger', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'RetentionTest');
  const retention = new sfn.StateMachine(stack, 'Retention', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Prune')),
  });
  const other = new sfn.StateMachine(stack, 'Other', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
  });
  new RetentionTrigger(stack, 'RetentionTrigger', {
    retention,
    engine: { url: 'http://engine.test:7750', tokenSecret: new secretsmanager.Secret(stack, 'Token') },
  });
  const template = Template.fromStack(stack);
  const { roleOf, startsOf, ruleTargeting, statementsOf } = inspect(template);

  it('runs run-retention every day', () => {
    expect(ruleTargeting('functions/run-retention.ts').map(([, rule]) => rule.Properties.ScheduleExpression)).toEqual([
      'cron(15 3 * * ? *)',
    ]);
  });

  it('lets run-retention start the retention state machine and nothing else', () => {
    expect(startsOf(roleOf('functions/run-retention.ts'))).toEqual([
      stack.getLogicalId(retention.node.defaultChild as sfn.CfnStateMachine),
    ]);
    expect(JSON.stringify(statementsOf(roleOf('functions/run-retention.ts')))).not.toContain(
      stack.getLogicalId(other.node.defaultChild as sfn.CfnStateMachine),
    );
  });
});

describe('s3EventBucketsFromContext', () => {
  it('reads a JSON list or a comma-separated string, and none by default', () => {
    expect(s3EventBucketsFromContext(undefined)).toEqual([]);
    expect(s3EventBucketsFromContext(['app-drops'])).toEqual(['app-drops']);
    expect(s3EventBucketsFromContext('app-drops, reports.example.com,')).toEqual(['app-drops', 'reports.example.com']);
  });

  it('refuses what is not a bucket name', () => {
    expect(() => s3EventBucketsFromContext(['Bad_Bucket'])).toThrow(/snapflow:s3EventBuckets/);
    expect(() => s3EventBucketsFromContext(42)).toThrow(/snapflow:s3EventBuckets/);
  });
});
