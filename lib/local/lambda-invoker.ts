import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { LocalFunction } from './resolve-template';

type Handler = (event: unknown, context: Context) => unknown;

/**
 * A Lambda function's error as Step Functions sees it: `name` is the `errorType` (what Retry and
 * Catch match) and `message`, which becomes the Cause, is the JSON error document Lambda returns.
 */
export class LambdaFunctionError extends Error {
  override readonly name: string;

  constructor(errorType: string, errorMessage: string, trace: string[]) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

export interface LambdaInvokerOptions {
  /** Handler module paths are relative to it. */
  repoRoot: string;
  functions: Record<string, LocalFunction>;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
}

/**
 * Invokes Lambda functions in this process the way the Lambda service would: the handler module is
 * loaded on first use (a cold start), the event and the result are copied as JSON, the context is a
 * Lambda context whose clock follows the function's `Timeout`, and failures come back in Lambda's
 * error shape. Module state persists between invocations, as in a warm Lambda environment.
 */
export class LambdaInvoker {
  private readonly repoRoot: string;
  private readonly functions: Record<string, LocalFunction>;
  private readonly region: string;
  private readonly accountId: string;
  private readonly handlers = new Map<string, Promise<Handler>>();

  constructor(options: LambdaInvokerOptions) {
    this.repoRoot = options.repoRoot;
    this.functions = options.functions;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
  }

  /**
   * Checks, before anything runs, that `logicalId` is a function with a handler module on disk.
   * @throws Error naming `usedBy` (who refers to the function) and what is missing.
   */
  check(logicalId: string, usedBy: string): void {
    const fn = this.functions[logicalId];
    if (fn === undefined) {
      throw new Error(`${usedBy} invokes Lambda function ${logicalId}, which has no SnapflowHandler metadata`);
    }
    const file = resolve(this.repoRoot, fn.handler);
    if (!existsSync(file))
      throw new Error(`${usedBy} invokes ${logicalId}, whose handler module ${file} does not exist`);
  }

  /**
   * Runs the function's handler on `payload` and resolves to its result.
   * @throws LambdaFunctionError when the handler throws, cannot be loaded, or outlives its `Timeout`
   * (`Sandbox.Timedout`, as on Lambda).
   */
  async invoke(logicalId: string, payload: unknown): Promise<unknown> {
    const fn = this.functions[logicalId];
    if (fn === undefined) throw new Error(`Lambda function ${logicalId} has no SnapflowHandler metadata`);
    const requestId = randomUUID();
    const timeoutMs = fn.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`;
        reject(new LambdaFunctionError('Sandbox.Timedout', message, []));
      }, timeoutMs);
    });
    try {
      const run = async () => {
        const handler = await this.handler(fn);
        const result = await handler(copyJson(payload), this.context(fn, requestId, deadline));
        return result === undefined ? null : copyJson(result);
      };
      return await Promise.race([run().catch(asLambdaError), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private handler(fn: LocalFunction): Promise<Handler> {
    const cached = this.handlers.get(fn.logicalId);
    if (cached !== undefined) return cached;
    const loading = import(pathToFileURL(resolve(this.repoRoot, fn.handler)).href).then((module: unknown) => {
      const exports = module as { handler?: unknown; default?: { handler?: unknown } };
      const handler = exports.handler ?? exports.default?.handler;
      if (typeof handler !== 'function') {
        throw new LambdaFunctionError(
          'Runtime.HandlerNotFound',
          `${fn.handler}.handler is undefined or not exported`,
          [],
        );
      }
      return handler as Handler;
    });
    // A failed cold start is retried on the next invocation, as Lambda does.
    loading.catch(() => this.handlers.delete(fn.logicalId));
    this.handlers.set(fn.logicalId, loading);
    return loading;
  }

  private context(fn: LocalFunction, requestId: string, deadline: number): Context {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const unused = () => {
      throw new Error('Local Lambda contexts do not support the deprecated done/fail/succeed callbacks');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.accountId}:function:${fn.logicalId}`,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.logicalId}`,
      logStreamName: `${day}/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unused,
      fail: unused,
      succeed: unused,
    };
  }
}

function asLambdaError(error: unknown): never {
  if (error instanceof LambdaFunctionError) throw error;
  if (error instanceof Error) throw new LambdaFunctionError(error.name, error.message, error.stack?.split('\n') ?? []);
  throw new LambdaFunctionError('Error', String(error), []);
}

/** Lambda passes events and results as JSON text, so a handler never shares objects with its caller. */
function copyJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}
