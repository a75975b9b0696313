import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TransientErrorNames } from '../core/errors';

export interface LambdaStepProps {
  /**
   * The part of the state the function receives, when it receives one part as it is.
   * @default the whole state
   */
  readonly inputPath?: string;
  /**
   * What the function receives, built from the state.
   * @default the whole state (or `inputPath`)
   */
  readonly payload?: sfn.TaskInput;
  /**
   * Where in the state the function's answer goes.
   * @default the answer replaces the state
   */
  readonly resultPath?: string;
}

/**
 * A workflow step that calls a Snapflow function. The task's Resource is the function's ARN (the
 * function answers the step's output itself), which is how local mode finds the handler. Lambda's own
 * service errors are retried (CDK's default), and so are the errors Snapflow calls transient, such as
 * an engine that does not answer; every other error goes to the workflow's Catch by its name.
 *
 * The Task's TimeoutSeconds is the function's timeout and the 10 s Lambda may spend starting it (not
 * counted in that timeout), so the function's own timeout ends a step first. Without it the States
 * Language's default of 60 s applies where Step Functions' does not: in the local interpreter, which
 * would cut short a step that waits for the engine.
 */
export function lambdaStep(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  props: LambdaStepProps = {},
): tasks.LambdaInvoke {
  const step = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    ...(props.inputPath === undefined ? {} : { inputPath: props.inputPath }),
    ...(props.payload === undefined ? {} : { payload: props.payload }),
    ...(props.resultPath === undefined ? {} : { resultPath: props.resultPath }),
    ...(fn instanceof lambda.Function && fn.timeout !== undefined
      ? { taskTimeout: sfn.Timeout.duration(fn.timeout.plus(Duration.seconds(10))) }
      : {}),
  });
  step.addRetry({
    errors: [...TransientErrorNames],
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
  });
  return step;
}
