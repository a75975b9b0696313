import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentKind } from '../../lib/core/host-plan';
import { documentContent } from '../../lib/infra/ssm-documents';

/** How a document's script ended, in GetCommandInvocation's terms. */
export interface ScriptResult {
  ResponseCode: number;
  StandardOutputContent: string;
  StandardErrorContent: string;
}

/**
 * Runs a Snapflow document's script with `sh`, as the SSM agent would: parameters are checked against
 * their `allowedPattern` (defaults fill the gaps) and substituted for `{{ Name }}`.
 */
export function runDocumentScript(kind: DocumentKind, parameters: Record<string, string>): ScriptResult {
  const content = documentContent(kind);
  const values: Record<string, string> = {};
  for (const [name, definition] of Object.entries(content.parameters)) {
    const value = parameters[name] ?? definition.default;
    if (value === undefined) throw new Error(`${kind}: parameter ${name} is required`);
    if (!new RegExp(definition.allowedPattern).test(value)) throw new Error(`${kind}: ${name}=${value} is not allowed`);
    values[name] = value;
  }
  const [step] = content.mainSteps;
  const script = step.inputs.runCommand
    .map((line) => line.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => values[name] ?? ''))
    .join('\n');
  const directory = mkdtempSync(join(tmpdir(), 'snapflow-script-'));
  try {
    const file = join(directory, '_script.sh');
    writeFileSync(file, `${script}\n`);
    const run = spawnSync('sh', [file], { encoding: 'utf8', timeout: 30_000 });
    return { ResponseCode: run.status ?? -1, StandardOutputContent: run.stdout, StandardErrorContent: run.stderr };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
