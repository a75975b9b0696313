import { describe, expect, it } from 'vitest';
import { COPY_DOCUMENT_FLAGS, WHOLE_FILE_FLAGS } from '../../../bench/rsync-flags';
import { documentContent } from '../../../lib/infra/ssm-documents';

describe('rsync flags of the copy-step comparison', () => {
  it('are the copy document’s flags, and those without the ones that update files in place', () => {
    const script = documentContent('copy').mainSteps[0].inputs.runCommand;

    expect(script).toContain(`set -- ${COPY_DOCUMENT_FLAGS.join(' ')} --exclude-from="$list"`);
    expect(COPY_DOCUMENT_FLAGS.filter((flag) => !WHOLE_FILE_FLAGS.includes(flag))).toEqual([
      '--inplace',
      '--no-whole-file',
      '--block-size=131072',
    ]);
  });
});
