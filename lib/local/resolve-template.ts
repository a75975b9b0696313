import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** The parts of a synthesized CloudFormation template the resolver reads. */
export interface CloudFormationTemplate {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Resources?: Record<string, CloudFormationResource>;
}

export interface CloudFormationResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** A state machine of the template, with its definition resolved to plain ASL. */
export interface ResolvedStateMachine {
  logicalId: string;
  /** The `SnapflowWorkflow` metadata, when the state machine has it. */
  workflowName?: string;
  /** The placeholder ARN its `Ref` resolves to; {@link stateMachineIdFromArn} maps it back. */
  arn: string;
  definition: StateMachineDefinition;
}

/** One `inputs` block of an `aws:runShellScript` step. */
export interface RunShellScriptInputs {
  runCommand: string[];
  /** A number, or a `{{ Parameter }}` reference resolved when the command is sent. */
  timeoutSeconds?: number | string;
  workingDirectory?: string;
}

export interface SsmDocumentStep {
  action: string;
  name: string;
  inputs: RunShellScriptInputs;
}

export interface SsmParameterDefinition {
  type: string;
  description?: string;
  default?: string;
  allowedPattern?: string;
  allowedValues?: string[];
}

/** The `Content` of a Command document, schema version 2.2. */
export interface SsmDocumentContent {
  schemaVersion: string;
  description?: string;
  parameters?: Record<string, SsmParameterDefinition>;
  mainSteps: SsmDocumentStep[];
}

/** An SSM document of the template; its name is the logical id, which is what its `Ref` resolves to. */
export interface SsmDocument {
  name: string;
  /** The `SnapflowDocument` metadata, when the document has it. */
  kind?: string;
  content: SsmDocumentContent;
}

/** A Lambda function of the template that local mode can run in-process. */
export interface LocalFunction {
  logicalId: string;
  /** Module exporting `handler`, relative to the repository root (`SnapflowHandler` metadata). */
  handler: string;
  /** Lambda's `Timeout`. @default 3 */
  timeoutSeconds: number;
  /** Lambda's `MemorySize`. @default 128 */
  memorySize: number;
}

/** What local mode needs from a synthesized template. */
export interface ResolvedTemplate {
  /** The region the placeholder ARNs name. */
  region: string;
  /** The account the placeholder ARNs name. */
  accountId: string;
  /** Every state machine, by logical id. */
  stateMachines: Record<string, ResolvedStateMachine>;
  /** State machines with `SnapflowWorkflow` metadata, by workflow name. */
  workflows: Record<string, ResolvedStateMachine>;
  /** Every SSM document, by name (= logical id). */
  documents: Record<string, SsmDocument>;
  /** Lambda functions with `SnapflowHandler` metadata, by logical id. */
  functions: Record<string, LocalFunction>;
}

/** Where the placeholders point. Nothing is looked up: the values only need to be well-formed. */
export interface ResolveOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
  /** @default 'Snapflow' */
  stackName?: string;
  /** Values for template parameters; parameters without one use their `Default`. */
  parameters?: Record<string, string>;
}

interface Scope {
  partition: string;
  region: string;
  accountId: string;
  stackName: string;
  parameters: Record<string, string>;
  resources: Record<string, CloudFormationResource>;
}

/**
 * Resolves a synthesized template (the object `Template.fromStack(stack).toJSON()` returns, or the
 * JSON of `cdk.out/<stack>.template.json`) into plain ASL, SSM documents and handler modules.
 * References to resources become placeholder names and ARNs that embed the logical id, so a Task's
 * `Resource` or a `DocumentName` leads back to the resource that defines it. Pure: no I/O.
 *
 * @throws Error naming the resource and the construct when the template uses something this
 * resolver does not understand (an unknown intrinsic, a missing parameter value, a duplicate workflow).
 */
export function resolveTemplate(template: CloudFormationTemplate, options: ResolveOptions = {}): ResolvedTemplate {
  const resources = template.Resources ?? {};
  const parameters: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const value = options.parameters?.[name] ?? parameter.Default;
    if (value !== undefined) parameters[name] = String(value);
  }
  const scope: Scope = {
    partition: 'aws',
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '123456789012',
    stackName: options.stackName ?? 'Snapflow',
    parameters,
    resources,
  };

  const resolved: ResolvedTemplate = {
    region: scope.region,
    accountId: scope.accountId,
    stateMachines: {},
    workflows: {},
    documents: {},
    functions: {},
  };
  for (const [logicalId, resource] of Object.entries(resources)) {
    switch (resource.Type) {
      case 'AWS::StepFunctions::StateMachine': {
        const stateMachine = resolveStateMachine(logicalId, resource, scope);
        resolved.stateMachines[logicalId] = stateMachine;
        if (stateMachine.workflowName === undefined) break;
        const taken = resolved.workflows[stateMachine.workflowName];
        if (taken !== undefined) {
          throw new Error(
            `Workflow "${stateMachine.workflowName}" is defined twice, by ${taken.logicalId} and ${logicalId}`,
          );
        }
        resolved.workflows[stateMachine.workflowName] = stateMachine;
        break;
      }
      case 'AWS::SSM::Document':
        resolved.documents[logicalId] = resolveDocument(logicalId, resource, scope);
        break;
      case 'AWS::Lambda::Function': {
        const fn = resolveFunction(logicalId, resource);
        if (fn !== undefined) resolved.functions[logicalId] = fn;
        break;
      }
    }
  }
  return resolved;
}

/** The logical id in a placeholder state machine ARN, or undefined when `arn` is not one. */
export function stateMachineIdFromArn(arn: string): string | undefined {
  return /^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:([^:]+)$/.exec(arn)?.[1];
}

/**
 * The logical id in a Lambda function reference as Step Functions accepts it (a placeholder ARN,
 * optionally qualified, or a bare name), or undefined when `reference` is none of these.
 */
export function functionIdFromReference(reference: string): string | undefined {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(reference);
  if (arn !== null) return arn[1];
  return /^([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(reference)?.[1];
}

function resolveStateMachine(logicalId: string, resource: CloudFormationResource, scope: Scope): ResolvedStateMachine {
  const properties = resource.Properties ?? {};
  if (properties.DefinitionString === undefined) {
    throw new Error(
      `State machine ${logicalId} has no DefinitionString (Definition and S3 locations are not supported)`,
    );
  }
  let text = asString(resolveValue(properties.DefinitionString, scope, `${logicalId}.DefinitionString`), logicalId);
  const substitutions = (properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  for (const [key, raw] of Object.entries(substitutions)) {
    const value = resolveValue(raw, scope, `${logicalId}.DefinitionSubstitutions.${key}`);
    text = text.split(`\${${key}}`).join(String(value));
  }
  const workflowName = resource.Metadata?.SnapflowWorkflow;
  return {
    logicalId,
    ...(typeof workflowName === 'string' ? { workflowName } : {}),
    arn: stateMachineArn(logicalId, scope),
    definition: JSON.parse(text) as StateMachineDefinition,
  };
}

function resolveDocument(logicalId: string, resource: CloudFormationResource, scope: Scope): SsmDocument {
  const properties = resource.Properties ?? {};
  const format = properties.DocumentFormat ?? 'JSON';
  if (format !== 'JSON') throw new Error(`SSM document ${logicalId} has DocumentFormat ${String(format)}; use JSON`);
  const raw = typeof properties.Content === 'string' ? JSON.parse(properties.Content) : properties.Content;
  const content = resolveValue(raw, scope, `${logicalId}.Content`) as SsmDocumentContent;
  const kind = resource.Metadata?.SnapflowDocument;
  return { name: logicalId, ...(typeof kind === 'string' ? { kind } : {}), content };
}

function resolveFunction(logicalId: string, resource: CloudFormationResource): LocalFunction | undefined {
  const handler = resource.Metadata?.SnapflowHandler;
  if (typeof handler !== 'string') return undefined;
  const properties = resource.Properties ?? {};
  return {
    logicalId,
    handler,
    timeoutSeconds: typeof properties.Timeout === 'number' ? properties.Timeout : 3,
    memorySize: typeof properties.MemorySize === 'number' ? properties.MemorySize : 128,
  };
}

function resolveValue(value: unknown, scope: Scope, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, index) => resolveValue(item, scope, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    return resolveIntrinsic(key, argument, scope, path);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveValue(v, scope, `${path}.${k}`)]));
}

function resolveIntrinsic(name: string, argument: unknown, scope: Scope, path: string): unknown {
  switch (name) {
    case 'Ref':
      return resolveRef(asString(argument, path), scope, path);
    case 'Fn::GetAtt': {
      const [id, attribute] = typeof argument === 'string' ? splitOnce(argument, '.') : (argument as unknown[]);
      return resolveGetAtt(asString(id, path), asString(attribute, path), scope, path);
    }
    case 'Fn::Join': {
      const [delimiter, parts] = argument as [string, unknown];
      const list = resolveValue(parts, scope, path) as unknown[];
      return list.map((part) => asString(part, path)).join(delimiter);
    }
    case 'Fn::Sub':
      return resolveSub(argument, scope, path);
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      const items = resolveValue(list, scope, path) as unknown[];
      const chosen = items[Number(resolveValue(index, scope, path))];
      if (chosen === undefined) throw new Error(`Fn::Select index out of range at ${path}`);
      return chosen;
    }
    case 'Fn::Split': {
      const [delimiter, source] = argument as [string, unknown];
      return asString(resolveValue(source, scope, path), path).split(delimiter);
    }
    default:
      throw new Error(`Unsupported intrinsic ${name} at ${path}`);
  }
}

function resolveRef(target: string, scope: Scope, path: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': scope.partition,
    'AWS::Region': scope.region,
    'AWS::AccountId': scope.accountId,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': scope.stackName,
    'AWS::StackId': `arn:${scope.partition}:cloudformation:${scope.region}:${scope.accountId}:stack/${scope.stackName}/local`,
  };
  const value = pseudo[target] ?? scope.parameters[target];
  if (value !== undefined) return value;
  const resource = scope.resources[target];
  if (resource === undefined) throw new Error(`Ref to unknown parameter or resource ${target} at ${path}`);
  switch (resource.Type) {
    case 'AWS::StepFunctions::StateMachine':
      return stateMachineArn(target, scope);
    case 'AWS::SecretsManager::Secret':
      return `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.accountId}:secret:${target}`;
    default:
      // Functions, documents, log groups, roles: their Ref is a name, and the logical id is the name.
      return target;
  }
}

function resolveGetAtt(id: string, attribute: string, scope: Scope, path: string): string {
  const resource = scope.resources[id];
  if (resource === undefined) throw new Error(`Fn::GetAtt of unknown resource ${id} at ${path}`);
  const { partition, region, accountId } = scope;
  if (attribute === 'Name') return id;
  if (attribute !== 'Arn') return `${id}.${attribute}`;
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return `arn:${partition}:lambda:${region}:${accountId}:function:${id}`;
    case 'AWS::StepFunctions::StateMachine':
      return stateMachineArn(id, scope);
    case 'AWS::Logs::LogGroup':
      return `arn:${partition}:logs:${region}:${accountId}:log-group:${id}:*`;
    case 'AWS::IAM::Role':
      return `arn:${partition}:iam::${accountId}:role/${id}`;
    default: {
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return `arn:${partition}:${service}:${region}:${accountId}:${id}`;
    }
  }
}

function resolveSub(argument: unknown, scope: Scope, path: string): string {
  const [template, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, object]);
  const resolvedVariables = resolveValue(variables, scope, path) as Record<string, unknown>;
  return template.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
    if (literal === '!') return `\${${name}}`;
    const variable = resolvedVariables[name];
    if (variable !== undefined) return asString(variable, path);
    if (name.includes('.') && !name.startsWith('AWS::')) {
      const [id, attribute] = splitOnce(name, '.');
      return resolveGetAtt(id, attribute, scope, path);
    }
    return resolveRef(name, scope, path);
  });
}

function stateMachineArn(logicalId: string, scope: Scope): string {
  return `arn:${scope.partition}:states:${scope.region}:${scope.accountId}:stateMachine:${logicalId}`;
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}

function asString(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`Expected a string at ${path}, got ${JSON.stringify(value)}`);
}
