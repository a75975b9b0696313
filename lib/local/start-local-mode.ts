import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createEngineClient } from '../adapters/engine-client';
import type { DocumentKind } from '../core/host-plan';
import type { Environment } from '../core/model';
import type { EngineApi } from '../core/ports';
import { SSH_HOST_ID_PREFIX } from '../engine/api-schemas';
import type { StorageBackendChoice } from '../engine/backends/create-storage-backend';
import { startEngine } from '../engine/start-engine';
import { buildSnapflowApp } from '../infra/build-app';
import { HostAgent } from './host-agent';
import type { HostRunner } from './host-runner';
import { LocalHostRunner } from './local-host-runner';
import { LocalWorkflows } from './local-workflows';
import { localPollWaitMs } from './poll-wait';
import { type CloudFormationTemplate, resolveTemplate } from './resolve-template';
import { SshHostRunner } from './ssh-host-runner';

/** The host id of this machine, as `SendCommand` names it in local mode. */
export const LOCAL_HOST_ID = 'local';

const REPO_ROOT = resolve(__dirname, '..', '..');

export interface LocalModeOptions {
  /** Directory for the engine's metadata and pool, and the host agent's command logs. */
  home: string;
  /** The storage backend of the engine local mode starts. @default 'auto' */
  backend?: StorageBackendChoice;
  /**
   * An engine already running, e.g. as a process of its own, to use instead of starting one in this
   * process; local mode then never stops nor removes it. It must accept SSH hosts to reach any.
   * @default an engine started below `home`
   */
  engine?: { url: string; token: string };
  /** CDK context for the stack local mode runs, as `cdk -c` gives it (e.g. `snapflow:copyTimeoutSeconds`). */
  context?: Record<string, unknown>;
  /**
   * Wraps the runner of each host's commands (`local`, or an `ssh-…` host id), e.g. for a test that makes
   * one of them fail.
   * @default the runner as it is
   */
  wrapHostRunner?: (runner: HostRunner, hostId: string) => HostRunner;
}

/** Everything local mode runs, started and wired together. */
export interface LocalMode {
  backend: { kind: string; reason: string };
  /** The engine's API, over HTTP as the handlers reach it. */
  engine: EngineApi;
  /** This machine, registered with the engine as the `local` host. */
  environment: Environment;
  workflows: LocalWorkflows;
  /** Runs the unmount document on this host for each path (paths not mounted are skipped). */
  unmountAll(paths: readonly string[]): Promise<void>;
  /**
   * Stops the host agent and the engine it started; without `keepStorage` also removes that engine's
   * pool. An engine it was given keeps running.
   */
  close(options: { keepStorage: boolean }): Promise<void>;
}

/**
 * Starts local mode: the engine on loopback, the CDK stack synthesized in this process, its state
 * machines run by the ASL interpreter, Lambda tasks dispatched to the handler modules and Run
 * Command tasks to a host agent running the stack's SSM documents on this machine.
 */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const started =
    options.engine === undefined
      ? await startEngine({ root: join(options.home, 'engine'), backend: options.backend ?? 'auto', sshHosts: true })
      : undefined;
  const engine = started ?? (options.engine as { url: string; token: string });
  try {
    const resolved = resolveTemplate(synthesizeTemplate(options.context));
    const { documents } = resolved;
    const client = createEngineClient({ url: engine.url, token: engine.token });
    const wrap = (runner: HostRunner, hostId: string) => options.wrapHostRunner?.(runner, hostId) ?? runner;
    const hostAgent = new HostAgent({
      documents,
      hosts: { [LOCAL_HOST_ID]: wrap(new LocalHostRunner(), LOCAL_HOST_ID) },
      // Read at each command, so that a host registered or changed since start-up is reached as registered.
      resolveHost: async (hostId) => {
        if (!hostId.startsWith(SSH_HOST_ID_PREFIX)) return undefined;
        const ssh = (await client.listEnvironments()).find((environment) => environment.hostId === hostId)?.ssh;
        return ssh === undefined ? undefined : wrap(new SshHostRunner(ssh), hostId);
      },
      logDirectory: join(options.home, 'command-logs'),
      pollWaitMs: localPollWaitMs(resolved),
    });
    const workflows = new LocalWorkflows(resolved, {
      repoRoot: REPO_ROOT,
      hostAgent,
      environment: { ENGINE_URL: engine.url, ENGINE_TOKEN: engine.token },
    });
    const environment = await localEnvironment(client, options.home);
    const backend = started?.backend ?? (await client.health()).backend;
    const documentName = (kind: DocumentKind) => {
      const found = Object.values(documents).find((document) => document.kind === kind);
      if (found === undefined) throw new Error(`the stack has no ${kind} document`);
      return found.name;
    };

    return {
      backend,
      engine: client,
      environment,
      workflows,
      async unmountAll(paths) {
        for (const path of paths) {
          const { Command } = await hostAgent.sendCommand({
            DocumentName: documentName('unmount'),
            InstanceIds: [LOCAL_HOST_ID],
            Parameters: { MountPath: [path] },
          });
          const invocation = await hostAgent.waitForCommand(Command.CommandId, LOCAL_HOST_ID);
          if (invocation.Status !== 'Success')
            throw new Error(`unmounting ${path} failed: ${invocation.StandardErrorContent.trim()}`);
        }
      },
      async close({ keepStorage }) {
        await hostAgent.close();
        if (started !== undefined) await (keepStorage ? started.stop() : started.destroy());
      },
    };
  } catch (error) {
    await started?.stop();
    throw error;
  }
}

/** The stack's template exactly as `cdk synth` writes it (with the same context), built here without bundling. */
export function synthesizeTemplate(context?: Record<string, unknown>): CloudFormationTemplate {
  const { app, stack } = buildSnapflowApp({
    bundle: false,
    validation: false,
    ...(context === undefined ? {} : { context }),
  });
  return app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
}

/** This machine as an environment, with its scratch directory (V2P mount points) inside the home. */
async function localEnvironment(engine: EngineApi, home: string): Promise<Environment> {
  const existing = (await engine.listEnvironments()).find((environment) => environment.hostId === LOCAL_HOST_ID);
  return (
    existing ??
    engine.createEnvironment({ name: hostname(), hostId: LOCAL_HOST_ID, scratchPath: join(home, 'scratch') })
  );
}
