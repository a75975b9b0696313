import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createEngineClient } from '../adapters/engine-client';
import type { DocumentKind } from '../core/host-plan';
import type { Environment } from '../core/model';
import type { EngineApi } from '../core/ports';
import type { StorageBackendChoice } from '../engine/backends/create-storage-backend';
import { startEngine } from '../engine/start-engine';
import { buildSnapflowApp } from '../infra/build-app';
import { HostAgent } from './host-agent';
import type { HostRunner } from './host-runner';
import { LocalHostRunner } from './local-host-runner';
import { LocalWorkflows } from './local-workflows';
import { localPollWaitMs } from './poll-wait';
import { type CloudFormationTemplate, resolveTemplate } from './resolve-template';

/** The host id of this machine, as `SendCommand` names it in local mode. */
export const LOCAL_HOST_ID = 'local';

const REPO_ROOT = resolve(__dirname, '..', '..');

export interface LocalModeOptions {
  /** Directory for the engine's metadata and pool, and the host agent's command logs. */
  home: string;
  backend: StorageBackendChoice;
  /**
   * Wraps the runner of this machine's host commands, e.g. for a test that makes one of them fail.
   * @default the runner as it is
   */
  wrapHostRunner?: (runner: HostRunner) => HostRunner;
}

/** Everything local mode runs, started and wired together. */
export interface LocalMode {
  backend: { kind: string; reason: string };
  engineUrl: string;
  /** The engine's API, over HTTP as the handlers reach it. */
  engine: EngineApi;
  /** This machine, registered with the engine as the `local` host. */
  environment: Environment;
  workflows: LocalWorkflows;
  /** Runs the unmount document on this host for each path (paths not mounted are skipped). */
  unmountAll(paths: readonly string[]): Promise<void>;
  /** Stops the host agent and the engine; without `keepStorage` also removes the engine's pool. */
  close(options: { keepStorage: boolean }): Promise<void>;
}

/**
 * Starts local mode: the engine on loopback, the CDK stack synthesized in this process, its state
 * machines run by the ASL interpreter, Lambda tasks dispatched to the handler modules and Run
 * Command tasks to a host agent running the stack's SSM documents on this machine.
 */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const engine = await startEngine({ root: join(options.home, 'engine'), backend: options.backend });
  try {
    const template = synthesizeTemplate();
    const resolved = resolveTemplate(template);
    const documents = Object.fromEntries(
      Object.values(resolved.documents).map((document) => [document.name, document]),
    );
    const runner = new LocalHostRunner();
    const hostAgent = new HostAgent({
      documents,
      hosts: { [LOCAL_HOST_ID]: options.wrapHostRunner?.(runner) ?? runner },
      logDirectory: join(options.home, 'command-logs'),
      pollWaitMs: localPollWaitMs(resolved),
    });
    const workflows = new LocalWorkflows(template, {
      repoRoot: REPO_ROOT,
      hostAgent,
      environment: { ENGINE_URL: engine.url, ENGINE_TOKEN: engine.token },
    });
    const client = createEngineClient({ url: engine.url, token: engine.token });
    const environment = await localEnvironment(client, options.home);
    const documentName = (kind: DocumentKind) => {
      const found = Object.values(documents).find((document) => document.kind === kind);
      if (found === undefined) throw new Error(`the stack has no ${kind} document`);
      return found.name;
    };

    return {
      backend: engine.backend,
      engineUrl: engine.url,
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
          let invocation = await hostAgent.getCommandInvocation({
            CommandId: Command.CommandId,
            InstanceId: LOCAL_HOST_ID,
          });
          while (invocation.Status === 'Pending' || invocation.Status === 'InProgress')
            invocation = await hostAgent.getCommandInvocation({
              CommandId: Command.CommandId,
              InstanceId: LOCAL_HOST_ID,
            });
          if (invocation.Status !== 'Success')
            throw new Error(`unmounting ${path} failed: ${invocation.StandardErrorContent.trim()}`);
        }
      },
      async close({ keepStorage }) {
        await hostAgent.close();
        await (keepStorage ? engine.stop() : engine.destroy());
      },
    };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

/** The stack's template exactly as `cdk synth` writes it, built here without bundling. */
export function synthesizeTemplate(): CloudFormationTemplate {
  const { app, stack } = buildSnapflowApp({ bundle: false, validation: false });
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
