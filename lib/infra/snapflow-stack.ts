import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { WorkflowName } from '../core/workflow-inputs';
import { SnapflowApi } from './api/snapflow-api';
import { SnapflowFunction } from './snapflow-function';
import { SnapflowDocuments } from './ssm-documents';
import { EventTriggers } from './triggers/event-triggers';
import { RetentionTrigger } from './triggers/retention-trigger';
import { ScheduleTriggers } from './triggers/schedule-triggers';
import { DeleteDSourceWorkflow } from './workflows/delete-dsource-workflow';
import { DeleteVdbWorkflow } from './workflows/delete-vdb-workflow';
import { EnableVdbWorkflow } from './workflows/enable-vdb-workflow';
import { ExportWorkflow } from './workflows/export-workflow';
import { LinkWorkflow } from './workflows/link-workflow';
import { ProvisionWorkflow } from './workflows/provision-workflow';
import { RefreshWorkflow } from './workflows/refresh-workflow';
import { RetentionWorkflow } from './workflows/retention-workflow';
import { RollbackWorkflow } from './workflows/rollback-workflow';
import { SnapshotVdbWorkflow } from './workflows/snapshot-vdb-workflow';
import { StartVdbWorkflow } from './workflows/start-vdb-workflow';
import { SyncWorkflow } from './workflows/sync-workflow';
import { UnmountVdbWorkflow } from './workflows/unmount-vdb-workflow';

export interface SnapflowStackProps extends StackProps {
  /** The engine's base URL, as the functions reach it (e.g. `http://engine.snapflow.internal:7750`). */
  readonly engineUrl: string;
  /**
   * Name of an existing Secrets Manager secret whose string is the engine's API token.
   * @default a new secret with a generated token, to be configured on the engine as well
   */
  readonly engineTokenSecretName?: string;
  /**
   * How long one copy may run on a staging host; the first sync of a large tree takes longest.
   * @default 1 hour
   */
  readonly copyTimeout?: Duration;
  /**
   * S3 buckets whose "Object Created" events start syncs of the dSources whose event source names
   * the bucket (see {@link EventTriggers}).
   * @default none: no S3 rule
   */
  readonly s3EventBuckets?: readonly string[];
}

/**
 * How long a workflow step that calls the engine may run. The engine makes one change at a time, and a
 * clone or snapshot holds its lock while it copies: on a pool that cannot reflink (dir on ext4) a full
 * copy of the dataset, so a step may wait behind the copies of every run started before it (20
 * provisions of 400 MiB at once: 19 copies of about 10 s before the last clone starts). The limit
 * stays under the 5 minutes after which fetch gives up on an answer (undici's headersTimeout): the
 * step would fail as EngineUnavailableError and be retried while the engine still works on the call.
 */
const ENGINE_STEP_TIMEOUT = Duration.seconds(280);

/**
 * Snapflow on AWS: a state machine per workflow (link, sync, provision, refresh, rollback,
 * snapshot-vdb, export, start-vdb, stop-vdb, enable-vdb, disable-vdb, delete-vdb, delete-dsource,
 * retention), the
 * functions their steps run, the SSM documents their host steps run, the engine token secret, and a log
 * group for host command output.
 */
export class SnapflowStack extends Stack {
  /** Every workflow's state machine, by the name its input schema and `SnapflowWorkflow` metadata have. */
  readonly workflows: Readonly<Record<WorkflowName, sfn.StateMachine>>;

  constructor(scope: Construct, id: string, props: SnapflowStackProps) {
    super(scope, id, props);
    if (!/^https?:\/\/[^\s/]+/.test(props.engineUrl)) {
      throw new Error(
        `engineUrl must be an http(s) URL, got ${JSON.stringify(props.engineUrl)}; set the snapflow:engineUrl context value`,
      );
    }

    const tokenSecret =
      props.engineTokenSecretName === undefined
        ? new secretsmanager.Secret(this, 'EngineToken', {
            description: 'Snapflow engine API token',
            generateSecretString: { passwordLength: 48, excludePunctuation: true },
          })
        : secretsmanager.Secret.fromSecretNameV2(this, 'EngineToken', props.engineTokenSecretName);
    Validations.of(tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The token is shared with the engine, which has no rotation hook; rotate it on both sides together.',
    });
    const engine = { url: props.engineUrl, tokenSecret };

    const documents = new SnapflowDocuments(this, 'Documents', {
      ...(props.copyTimeout === undefined ? {} : { copyTimeout: props.copyTimeout }),
    });
    const outputLogGroup = new logs.LogGroup(this, 'CommandOutput', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const step = (id: string, handlerModule: string) =>
      new SnapflowFunction(this, id, { handlerModule, timeout: ENGINE_STEP_TIMEOUT }).bindEngine(engine);
    const hostCommands = {
      documents,
      outputLogGroup,
      raiseHostError: new SnapflowFunction(this, 'RaiseHostError', { handlerModule: 'raise-host-error' }),
      noteUndoFailure: new SnapflowFunction(this, 'NoteUndoFailure', { handlerModule: 'note-undo-failure' }),
    };
    const leaseFunctions = {
      acquireLease: step('AcquireLease', 'acquire-lease'),
      releaseLease: step('ReleaseLease', 'release-lease'),
    };
    const deleteSnapshot = step('DeleteSnapshot', 'delete-snapshot');

    const sync = new SyncWorkflow(this, 'Sync', {
      functions: {
        planSync: step('PlanSync', 'plan-sync'),
        recordSnapshot: step('RecordSnapshot', 'record-snapshot'),
        deleteSnapshot,
      },
      hostCommands,
      lease: leaseFunctions,
    });
    // A queued run waits as long as the longest run may hold a lease: a sync's, or an export's, which
    // is as long (one long copy and three short commands each).
    const lease = { ...leaseFunctions, queueWait: sync.runDuration };
    const deleteDSource = step('DeleteDSource', 'delete-dsource');
    const link = new LinkWorkflow(this, 'Link', {
      functions: {
        validateLink: step('ValidateLink', 'validate-link'),
        createDSource: step('CreateDSource', 'create-dsource'),
        deleteDSource,
      },
      sync,
      hostCommands,
    });
    const updateVdbState = step('UpdateVdbState', 'update-vdb-state');
    const snapshotVdb = step('SnapshotVdb', 'snapshot-vdb');
    const deleteVdb = step('DeleteVdb', 'delete-vdb');
    const timeflowFunctions = {
      createTimeflow: step('CreateTimeflow', 'create-timeflow'),
      restoreTimeflow: step('RestoreTimeflow', 'restore-timeflow'),
      updateVdbState,
    };
    const lifecycle = {
      functions: { planVdbLifecycle: step('PlanVdbLifecycle', 'plan-vdb-lifecycle'), updateVdbState },
      hostCommands,
      lease,
    };

    // The construct ids of the workflows added after the first three end in Workflow: some of their
    // names are taken by functions.
    const workflows: Record<WorkflowName, Construct & { readonly stateMachine: sfn.StateMachine }> = {
      link,
      sync,
      provision: new ProvisionWorkflow(this, 'Provision', {
        functions: {
          planProvision: step('PlanProvision', 'plan-provision'),
          createVdb: step('CreateVdb', 'create-vdb'),
          updateVdbState,
          snapshotVdb,
          deleteVdb,
        },
        hostCommands,
      }),
      refresh: new RefreshWorkflow(this, 'RefreshWorkflow', {
        functions: { planRefresh: step('PlanRefresh', 'plan-refresh'), ...timeflowFunctions },
        hostCommands,
        lease,
      }),
      rollback: new RollbackWorkflow(this, 'RollbackWorkflow', {
        functions: { planRollback: step('PlanRollback', 'plan-rollback'), ...timeflowFunctions },
        hostCommands,
        lease,
      }),
      'snapshot-vdb': new SnapshotVdbWorkflow(this, 'SnapshotVdbWorkflow', { functions: { snapshotVdb }, lease }),
      export: new ExportWorkflow(this, 'ExportWorkflow', {
        functions: {
          planExport: step('PlanExport', 'plan-export'),
          reportExport: new SnapflowFunction(this, 'ReportExport', { handlerModule: 'report-export' }),
        },
        hostCommands,
        lease,
      }),
      'start-vdb': new StartVdbWorkflow(this, 'StartVdbWorkflow', lifecycle),
      'stop-vdb': new UnmountVdbWorkflow(this, 'StopVdbWorkflow', { ...lifecycle, workflow: 'stop-vdb' }),
      'enable-vdb': new EnableVdbWorkflow(this, 'EnableVdbWorkflow', lifecycle),
      'disable-vdb': new UnmountVdbWorkflow(this, 'DisableVdbWorkflow', { ...lifecycle, workflow: 'disable-vdb' }),
      'delete-vdb': new DeleteVdbWorkflow(this, 'DeleteVdbWorkflow', {
        functions: { ...lifecycle.functions, deleteVdb },
        hostCommands,
        lease,
      }),
      'delete-dsource': new DeleteDSourceWorkflow(this, 'DeleteDSourceWorkflow', {
        functions: { planDeleteDSource: step('PlanDeleteDSource', 'plan-delete-dsource'), deleteDSource },
        hostCommands,
        lease,
      }),
      retention: new RetentionWorkflow(this, 'RetentionWorkflow', {
        functions: {
          planRetention: step('PlanRetention', 'plan-retention'),
          deleteSnapshot,
          reportRetention: new SnapflowFunction(this, 'ReportRetention', { handlerModule: 'report-retention' }),
        },
        lease,
      }),
    };
    this.workflows = Object.fromEntries(
      Object.entries(workflows).map(([name, workflow]) => [name, workflow.stateMachine]),
    ) as Record<WorkflowName, sfn.StateMachine>;
    const api = new SnapflowApi(this, 'Api', { workflows: this.workflows, engine });

    for (const workflow of Object.values(workflows)) {
      const name = workflow.node.id.replace(/Workflow$/, '');
      new CfnOutput(this, `${name}StateMachineArn`, { value: workflow.stateMachine.stateMachineArn });
    }
    new CfnOutput(this, 'EngineTokenSecretArn', { value: tokenSecret.secretArn });
    new CfnOutput(this, 'CommandOutputLogGroup', { value: outputLogGroup.logGroupName });

    // Triggers: events and schedules start syncs and VDB snapshots; workflows that create or delete a
    // dataset make its schedule follow; retention runs daily.
    new EventTriggers(this, 'EventTriggers', {
      sync: this.workflows.sync,
      engine,
      s3EventBuckets: props.s3EventBuckets,
    });
    const scheduleTriggers = new ScheduleTriggers(this, 'ScheduleTriggers', {
      sync: this.workflows.sync,
      snapshotVdb: this.workflows['snapshot-vdb'],
      datasetWorkflows: [
        this.workflows.link,
        this.workflows.provision,
        this.workflows['delete-dsource'],
        this.workflows['delete-vdb'],
      ],
      engine,
    });
    new RetentionTrigger(this, 'RetentionTrigger', { retention: this.workflows.retention, engine });
    // PATCH of a dataset's policy applies its schedule from the API function.
    scheduleTriggers.bindScheduler(api.handler);
  }
}
