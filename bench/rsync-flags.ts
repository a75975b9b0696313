/** The copy document's rsync flags (lib/infra/ssm-documents.ts), without the empty exclude list. */
export const COPY_DOCUMENT_FLAGS = ['--archive', '--hard-links', '--numeric-ids', '--delete', '--stats'];
/**
 * The flags proposed for files changed in place: compare blocks (rsync otherwise copies a changed
 * local file whole), write only the blocks that differ into the file itself (rsync otherwise writes
 * a new file, which on btrfs shares nothing with the snapshot), in rsync's largest blocks (fewer
 * checksums to compute and match).
 */
export const IN_PLACE_FLAGS = [...COPY_DOCUMENT_FLAGS, '--inplace', '--no-whole-file', '--block-size=131072'];
