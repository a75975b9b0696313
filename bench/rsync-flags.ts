/** The copy document's rsync flags (lib/infra/ssm-documents.ts), without the exclude list. */
export const COPY_DOCUMENT_FLAGS = [
  '--archive',
  '--hard-links',
  '--numeric-ids',
  '--delete',
  '--stats',
  '--inplace',
  '--no-whole-file',
  '--block-size=131072',
];
/**
 * The baseline of the copy-step comparison: the copy document's flags without the three that update
 * files in place, i.e. rsync's default between local paths, which writes every changed file anew
 * (a new file renamed over the old one, which on btrfs shares nothing with the snapshot).
 */
export const WHOLE_FILE_FLAGS = COPY_DOCUMENT_FLAGS.slice(0, 5);
