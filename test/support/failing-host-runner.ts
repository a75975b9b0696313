import { basename } from 'node:path';
import type { DocumentKind } from '../../lib/core/host-plan';
import { DOCUMENT_KINDS, documentContent } from '../../lib/infra/ssm-documents';
import type { HostRunner } from '../../lib/local/host-runner';

/**
 * Makes chosen host commands fail the way a host does, for local mode's `wrapHostRunner`: an armed
 * document's next command runs a script that reports a HostCommandFailedError instead of its own,
 * so it changes nothing on the host. Every other command runs as it is.
 */
export class HostFailures {
  /** The documents whose commands were made to fail, in order. */
  readonly failed: DocumentKind[] = [];
  private readonly armed: DocumentKind[] = [];

  /** Makes the next command of `document` fail. */
  failNext(document: DocumentKind): void {
    this.armed.push(document);
  }

  readonly wrap = (runner: HostRunner): HostRunner => ({
    start: (script) => {
      // The host agent runs each command in a directory named after the document's step.
      const step = basename(script.commandDirectory);
      const document = DOCUMENT_KINDS.find((kind) => documentContent(kind).mainSteps[0].name === step);
      const index = document === undefined ? -1 : this.armed.indexOf(document);
      if (document === undefined || index === -1) return runner.start(script);
      this.armed.splice(index, 1);
      this.failed.push(document);
      const line = `snapflow-error: HostCommandFailedError: the ${document} command failed on purpose`;
      return runner.start({ ...script, text: `echo '${line}' >&2\nexit 1\n` });
    },
  });
}
