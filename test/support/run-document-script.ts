import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentKind } from '../../lib/core/host-plan';
import { DOCUMENT_KINDS, documentContent } from '../../lib/infra/ssm-documents';
import { type CommandInvocation, HostAgent } from '../../lib/local/host-agent';
import type { HostRunner } from '../../lib/local/host-runner';
import { LocalHostRunner } from '../../lib/local/local-host-runner';

/** How a document's script ended, in GetCommandInvocation's terms. */
export type ScriptResult = Pick<
  CommandInvocation,
  'Status' | 'ResponseCode' | 'StandardOutputContent' | 'StandardErrorContent'
>;

export interface DocumentHostOptions {
  /** Wraps this machine's runner, e.g. to change a script's environment. @default the runner as it is */
  wrapRunner?: (runner: HostRunner) => HostRunner;
  /** How long a cancelled script has to clean up before it is killed. @default the runner's */
  killGraceMs?: number;
}

/**
 * The Snapflow documents on this machine as local mode runs them: the real host agent, which checks
 * every parameter against the document's `allowedPattern` (defaults fill the gaps) and substitutes it
 * as SSM does, and the real local runner, which runs the script with `sh` in a process group of its
 * own. Each document is named after its kind.
 */
export class DocumentHost {
  private constructor(
    readonly agent: HostAgent,
    private readonly logDirectory: string,
  ) {}

  static async start(options: DocumentHostOptions = {}): Promise<DocumentHost> {
    const logDirectory = await mkdtemp(join(tmpdir(), 'snapflow-document-'));
    const runner = new LocalHostRunner(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs });
    const agent = new HostAgent({
      documents: Object.fromEntries(
        DOCUMENT_KINDS.map((kind) => [kind, { name: kind, kind, content: documentContent(kind) }]),
      ),
      hosts: { local: options.wrapRunner?.(runner) ?? runner },
      logDirectory,
      pollWaitMs: 60_000,
    });
    return new DocumentHost(agent, logDirectory);
  }

  /**
   * Sends the document to this machine and answers with the command's id.
   * @throws SsmServiceError (`Ssm.InvalidParametersException`) for a value its patterns refuse
   */
  async send(kind: DocumentKind, parameters: Record<string, string>): Promise<string> {
    const { Command } = await this.agent.sendCommand({
      DocumentName: kind,
      InstanceIds: ['local'],
      Parameters: Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, [value]])),
    });
    return Command.CommandId;
  }

  /** Waits for the command to end and answers as GetCommandInvocation does. */
  async result(commandId: string): Promise<ScriptResult> {
    const { Status, ResponseCode, StandardOutputContent, StandardErrorContent } = await this.agent.waitForCommand(
      commandId,
      'local',
    );
    return { Status, ResponseCode, StandardOutputContent, StandardErrorContent };
  }

  async run(kind: DocumentKind, parameters: Record<string, string>): Promise<ScriptResult> {
    return this.result(await this.send(kind, parameters));
  }

  /** Stops what still runs and removes the command logs. */
  async close(): Promise<void> {
    await this.agent.close();
    await rm(this.logDirectory, { recursive: true, force: true });
  }
}

/** Runs one Snapflow document on this machine, as local mode does (see {@link DocumentHost}). */
export async function runDocumentScript(
  kind: DocumentKind,
  parameters: Record<string, string>,
  options: DocumentHostOptions = {},
): Promise<ScriptResult> {
  const host = await DocumentHost.start(options);
  try {
    return await host.run(kind, parameters);
  } finally {
    await host.close();
  }
}
