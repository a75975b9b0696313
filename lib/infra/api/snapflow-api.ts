import { CfnOutput, type CfnResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Route, routes } from '../../api/routes';
import { toApiGatewaySchema } from '../../api/schema-dialects';
import { type ErrorName, ErrorNames } from '../../core/errors';
import type { WorkflowName } from '../../core/workflow-inputs';
import { SnapflowFunction } from '../snapflow-function';

/** Props of {@link SnapflowApi}. */
export interface SnapflowApiProps {
  /** The state machine of every workflow a route starts. */
  readonly workflows: Readonly<Record<WorkflowName, sfn.StateMachine>>;
  /** Where the API function reaches the engine, for the routes the engine answers itself. */
  readonly engine: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
  /**
   * Steady requests per second the stage admits, and the burst above it.
   * @default 20 per second, bursts of 40
   */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * How long access logs are kept.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
}

/** What API Gateway answers for itself, before the function runs, in the API's own error shape. */
const GATEWAY_ERRORS: readonly { type: apigw.ResponseType; code: ErrorName; message: string; action: string }[] = [
  {
    type: apigw.ResponseType.BAD_REQUEST_BODY,
    code: ErrorNames.Validation,
    message: '"body is not valid: $util.escapeJavaScript($context.error.validationErrorString)"',
    action: 'Correct the body; the OpenAPI document lists the fields of each route.',
  },
  {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    code: ErrorNames.Validation,
    message: '"parameters are not valid: $util.escapeJavaScript($context.error.validationErrorString)"',
    action: 'Give the path parameters and only the query parameters the route documents.',
  },
  ...[
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    apigw.ResponseType.INVALID_SIGNATURE,
    apigw.ResponseType.EXPIRED_TOKEN,
    apigw.ResponseType.ACCESS_DENIED,
  ].map((type) => ({
    type,
    code: ErrorNames.Unauthorized,
    message: '$context.error.messageString',
    action:
      'Sign the request with SigV4 (the CLI does) using credentials allowed execute-api:Invoke on this API; an unknown route also answers this.',
  })),
  {
    type: apigw.ResponseType.THROTTLED,
    code: ErrorNames.EngineUnavailable,
    message: '$context.error.messageString',
    action: 'Too many requests: wait a little and send the request again.',
  },
  {
    type: apigw.ResponseType.DEFAULT_5XX,
    code: ErrorNames.Storage,
    message: '$context.error.messageString',
    action: "See the API function's log.",
  },
];

/**
 * The REST API on API Gateway, built from the route table (`lib/api/routes.ts`): a resource and method
 * per route, every method behind IAM auth (SigV4), request validators with a model per request body
 * (the route's JSON Schema, as draft-4), and a Lambda proxy integration to `functions/api.ts`, which
 * runs the same `handleRequest` as the local API. The stage writes JSON access logs and is throttled.
 *
 * The function may read the engine token secret, `states:StartExecution` on the workflows' state
 * machines, and `states:DescribeExecution` and `states:GetExecutionHistory` on their executions;
 * nothing else.
 */
export class SnapflowApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly handler: SnapflowFunction;

  constructor(scope: Construct, id: string, props: SnapflowApiProps) {
    super(scope, id);

    this.handler = new SnapflowFunction(this, 'Handler', { handlerModule: 'api' }).bindEngine(props.engine);
    const arns = Object.fromEntries(
      Object.entries(props.workflows).map(([name, stateMachine]) => [name, stateMachine.stateMachineArn]),
    );
    this.handler.addEnvironment('STATE_MACHINE_ARNS', Stack.of(this).toJsonString(arns));
    for (const stateMachine of Object.values(props.workflows)) {
      stateMachine.grantStartExecution(this.handler);
      stateMachine.grantExecution(this.handler, 'states:DescribeExecution', 'states:GetExecutionHistory');
      const logicalId = Stack.of(this).getLogicalId(stateMachine.node.defaultChild as CfnResource);
      Validations.of(this.handler.role as iam.IRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId}"}]}]}:*]`,
        reason: `Job ids are execution names chosen per request, so reading jobs needs every execution of ${stateMachine.node.path}, and of that state machine only.`,
      });
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      description: 'Snapflow: environments, dSources, snapshots, VDBs and jobs (DCT-style, IAM auth)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: props.throttling?.rateLimit ?? 20,
        throttlingBurstLimit: props.throttling?.burstLimit ?? 40,
        tracingEnabled: true,
      },
    });
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-COG4',
        reason: 'Every method uses IAM auth (SigV4): callers are AWS principals, not Cognito users.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason: 'IAM auth admits only signed requests from allowed principals; put a WAF in front where policy asks.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'Execution logging needs the account-wide API Gateway CloudWatch role, which one stack should not own; access logs are on.',
      },
    );

    const validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // One permission for the whole API instead of one per method, which would be dozens.
    const integration = new apigw.LambdaIntegration(this.handler, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    for (const route of routes as readonly Route[]) {
      const resource = this.restApi.root.resourceForPath(route.path);
      resource.addMethod(route.method, integration, {
        operationName: route.operationId,
        requestValidator: validator,
        requestParameters: requestParameters(route),
        ...(route.body === undefined
          ? {}
          : {
              requestModels: {
                'application/json': this.restApi.addModel(`${pascalCase(route.operationId)}Body`, {
                  contentType: 'application/json',
                  description: route.body.description ?? route.summary,
                  schema: toApiGatewaySchema(route.body) as apigw.JsonSchema,
                }),
              },
            }),
      });
    }

    new CfnOutput(this, 'Url', { value: this.restApi.url, description: 'snapflow --api <this URL>' });

    for (const answer of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(pascalCase(answer.type.responseType.toLowerCase()), {
        type: answer.type,
        responseHeaders: { 'Content-Type': "'application/json'" },
        templates: {
          'application/json': `{"error":{"code":"${answer.code}","message":${answer.message},"action":"${answer.action}"}}`,
        },
      });
    }
  }
}

/** The path's `{id}` is required, query parameters optional; the handler refuses any others. */
function requestParameters(route: Route): Record<string, boolean> {
  return {
    ...(route.path.includes('{id}') ? { 'method.request.path.id': true } : {}),
    ...Object.fromEntries(
      Object.keys(route.query?.properties ?? {}).map((name) => [`method.request.querystring.${name}`, false]),
    ),
  };
}

function pascalCase(name: string): string {
  return name.replace(/(^|[_-])([a-z])/g, (_, _separator: string, letter: string) => letter.toUpperCase());
}
