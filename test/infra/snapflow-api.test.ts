import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type Route, routes } from '../../lib/api/routes';
import { toApiGatewaySchema } from '../../lib/api/schema-dialects';
import { snapflowTemplate } from '../support/snapflow-template';

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

describe('SnapflowApi', () => {
  const { template } = snapflowTemplate();
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const [[restApiId]] = ofType('AWS::ApiGateway::RestApi') as [[string, Resource]];

  /** Each API Gateway resource's full path, from its PathPart and its parent's path. */
  const pathOf = (id: string): string => {
    const resource = resources[id] as Resource;
    const parent = resource.Properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    const parentPath = parent.Ref === undefined ? '' : pathOf(parent.Ref);
    return `${parentPath}/${resource.Properties.PathPart as string}`;
  };
  const methods = ofType('AWS::ApiGateway::Method').map(([, method]) => {
    const target = method.Properties.ResourceId as { Ref?: string };
    return { ...method.Properties, path: target.Ref === undefined ? '/' : pathOf(target.Ref) };
  }) as ({ path: string; HttpMethod: string } & Record<string, unknown>)[];

  it('has exactly the methods of the route table, at its paths', () => {
    expect(methods.map((method) => `${method.HttpMethod} ${method.path}`).sort()).toEqual(
      (routes as readonly Route[]).map((route) => `${route.method} ${route.path}`).sort(),
    );
  });

  it('puts every method behind IAM auth, a request validator and the proxy integration', () => {
    for (const method of methods) {
      expect(method, method.path).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        RequestValidatorId: expect.anything(),
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
    }
  });

  it("validates each body against a model made from the route's schema", () => {
    const models = Object.fromEntries(ofType('AWS::ApiGateway::Model').map(([id, model]) => [id, model.Properties]));
    for (const route of routes as readonly Route[]) {
      const method = methods.find(
        (candidate) => candidate.HttpMethod === route.method && candidate.path === route.path,
      );
      const modelRef = (method?.RequestModels as Record<string, { Ref: string }> | undefined)?.['application/json'];
      if (route.body === undefined) {
        expect(modelRef, route.operationId).toBeUndefined();
        continue;
      }
      expect(models[modelRef?.Ref ?? '']?.Schema, route.operationId).toEqual(toApiGatewaySchema(route.body));
    }
    const validators = ofType('AWS::ApiGateway::RequestValidator');
    expect(validators.map(([, validator]) => validator.Properties)).toEqual([
      expect.objectContaining({ ValidateRequestBody: true, ValidateRequestParameters: true }),
    ]);
  });

  it('logs access as JSON and throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: { Ref: restApiId },
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 })],
    });
  });

  it('lets the API function start the workflows and read their executions, and nothing more of Step Functions', () => {
    const [[functionId, fn]] = ofType('AWS::Lambda::Function').filter(
      ([, candidate]) => candidate.Metadata?.SnapflowHandler === 'functions/api.ts',
    ) as [[string, Resource]];
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap(
        ([, policy]) => (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      );
    const machines = ofType('AWS::StepFunctions::StateMachine').map(([id]) => id);

    const starts = statements.filter((statement) => statement.Action === 'states:StartExecution');
    expect(starts.map((statement) => (statement.Resource as { Ref: string }).Ref).sort()).toEqual([...machines].sort());
    const reads = statements.filter((statement) => JSON.stringify(statement.Action).includes('Execution'));
    for (const statement of reads.filter((candidate) => candidate.Action !== 'states:StartExecution')) {
      expect(statement.Action).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);
      expect(JSON.stringify(statement.Resource)).toContain(':execution:');
    }
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.filter((action) => action.startsWith('states:')).sort()).toEqual(
      [
        ...machines.map(() => 'states:StartExecution'),
        ...machines.flatMap(() => ['states:DescribeExecution', 'states:GetExecutionHistory']),
      ].sort(),
    );
    expect(fn.Properties.Environment).toMatchObject({ Variables: { STATE_MACHINE_ARNS: expect.anything() } });
    expect(functionId).toBeDefined();
  });

  it('answers in the API error shape when API Gateway refuses a request itself', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"ValidationError"') },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"UnauthorizedError"') },
    });
  });
});
