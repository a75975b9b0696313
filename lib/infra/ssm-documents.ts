import { type Duration, Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { DocumentKind } from '../core/host-plan';
import { UNIX_PATH_PATTERN } from '../core/paths';
import { linkedSourceDefinition } from '../plugins/directory-tree/schemas';

/** A String parameter of an SSM Command document; Snapflow gives every one an `allowedPattern`. */
export interface DocumentParameter {
  type: 'String';
  description: string;
  allowedPattern: string;
  default?: string;
}

/** The content of a custom SSM Command document (schema 2.2) with one `aws:runShellScript` step. */
export interface CommandDocumentContent {
  schemaVersion: '2.2';
  description: string;
  parameters: Record<string, DocumentParameter>;
  mainSteps: [
    {
      action: 'aws:runShellScript';
      name: string;
      precondition: { StringEquals: ['platformType', 'Linux'] };
      inputs: { timeoutSeconds: number; runCommand: string[] };
    },
  ];
}

/** How long each document may run on the host before SSM stops it, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS: Readonly<Record<DocumentKind, number>> = {
  'check-mount-point': 60,
  mount: 60,
  unmount: 60,
  copy: 3600,
  export: 3600,
};

/** The longest an `aws:runShellScript` step may run. */
const MAX_TIMEOUT_SECONDS = 172_800;

const inner = (pattern: string) => pattern.replace(/^\^/, '').replace(/\$$/, '');
const { username, sourceAddress, excludes } = linkedSourceDefinition.properties;
const excludeItem = inner(excludes.items.pattern);

/**
 * Every value that reaches a script matches one of these, enforced by SSM before the script runs (and
 * by the local host agent). None admits a quote, a newline or a shell metacharacter, so a value
 * substituted between single quotes stays one literal word.
 */
export const PARAMETER_PATTERNS = {
  path: UNIX_PATH_PATTERN,
  /** A path on the staging host, or `user@host:path` on a source host reached over SSH. */
  copySource: `^(?:${inner(username.pattern)}@${inner(sourceAddress.pattern)}:)?${inner(UNIX_PATH_PATTERN)}$`,
  /** The plugin's exclude patterns joined by commas, or nothing. */
  excludes: `^(?:${excludeItem}(?:,${excludeItem})*)?$`,
  flag: '^(true|false)$',
  access: '^(ro|rw)$',
  exportKind: '^bind$',
} as const;

const path = (description: string): DocumentParameter => ({
  type: 'String',
  description,
  allowedPattern: PARAMETER_PATTERNS.path,
});

/**
 * The start of every script: POSIX sh (Debian's sh is dash), stop at the first failing command, and
 * `fail` to report a named error the way raiseHostError reads it, on one stderr line.
 */
const PRELUDE = [
  'set -eu',
  `fail() { printf 'snapflow-error: %s: %s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ')" >&2; exit 1; }`,
];

/** Refuses a mount path that is a symbolic link or not a directory; both would mount somewhere else. */
const REQUIRE_DIRECTORY_OR_ABSENT = [
  'if [ -L "$path" ]; then fail ParameterRejectedError "MountPath $path is a symbolic link; give the directory it points to"; fi',
  'if [ -e "$path" ] && [ ! -d "$path" ]; then fail ParameterRejectedError "MountPath $path exists and is not a directory"; fi',
];

/** Fails unless the directory at `$path` is empty; an assignment, so an unreadable directory fails too. */
const REQUIRE_EMPTY = [
  'entries=$(ls -A -- "$path")',
  'if [ -n "$entries" ]; then fail MountPointNotEmptyError "MountPath $path is not empty"; fi',
];

const SCRIPTS: Readonly<Record<DocumentKind, string[]>> = {
  'check-mount-point': [
    ...PRELUDE,
    "path='{{ MountPath }}'",
    ...REQUIRE_DIRECTORY_OR_ABSENT,
    'if [ ! -e "$path" ]; then exit 0; fi',
    'if mountpoint -q -- "$path"; then fail MountPointBusyError "MountPath $path already has a filesystem mounted on it"; fi',
    ...REQUIRE_EMPTY,
  ],
  mount: [
    ...PRELUDE,
    // ExportKind says how to reach Source; the engine exports only bind mounts today, and the
    // parameter's pattern admits nothing else.
    "source='{{ Source }}'",
    "path='{{ MountPath }}'",
    "access='{{ Access }}'",
    'if [ ! -d "$source" ]; then fail ParameterRejectedError "Source $source is not a directory on this host"; fi',
    ...REQUIRE_DIRECTORY_OR_ABSENT,
    'mkdir -p -- "$path"',
    // Mounting again what is already mounted there succeeds, so a retried workflow step does no harm.
    'if mountpoint -q -- "$path"; then',
    '  if [ "$(stat -c %d:%i -- "$path")" != "$(stat -c %d:%i -- "$source")" ]; then',
    '    fail MountPointBusyError "MountPath $path already has another filesystem mounted on it"',
    '  fi',
    // A bind mount takes its access only on a remount; this also corrects a repeated mount's access.
    '  mount -o "remount,bind,$access" -- "$path"',
    'else',
    ...REQUIRE_EMPTY.map((line) => `  ${line}`),
    '  mount --bind -- "$source" "$path"',
    // Workflows take a failed mount for no mount at all, so a bind whose access cannot be set is undone.
    '  if ! error=$(mount -o "remount,bind,$access" -- "$path" 2>&1); then',
    '    umount -- "$path"',
    '    fail HostCommandFailedError "MountPath $path could not be mounted $access: $error"',
    '  fi',
    'fi',
  ],
  unmount: [
    ...PRELUDE,
    "path='{{ MountPath }}'",
    "remove='{{ RemoveMountPoint }}'",
    // Nothing mounted is the state this command brings about, so it succeeds.
    'if [ -d "$path" ] && mountpoint -q -- "$path"; then',
    // A process that is just leaving the tree holds it briefly; try a few times before calling it busy.
    '  tries=0',
    '  until error=$(umount -- "$path" 2>&1); do',
    '    tries=$((tries + 1))',
    '    if [ "$tries" -ge 5 ]; then fail MountPointBusyError "MountPath $path is still in use: $error"; fi',
    '    sleep 1',
    '  done',
    'fi',
    // rmdir removes only an empty directory: what is left in it once unmounted is not Snapflow's to delete.
    'if [ "$remove" = true ] && [ -d "$path" ]; then rmdir -- "$path"; fi',
  ],
  copy: [
    ...PRELUDE,
    "source='{{ Source }}'",
    "destination='{{ Destination }}'",
    "excludes='{{ Excludes }}'",
    "resync='{{ Resync }}'",
    // Without the mount, the copy would fill the host's own disk instead of the dataset.
    'if ! mountpoint -q -- "$destination"; then',
    '  fail MountPointMissingError "Destination $destination is not a mount point: the dataset is not mounted there"',
    'fi',
    'list=$(mktemp)',
    'errors=$(mktemp)',
    `trap 'rm -f -- "$list" "$errors"' EXIT`,
    `printf '%s' "$excludes" | tr ',' '\\n' > "$list"`,
    'set -- --archive --hard-links --numeric-ids --delete --stats --exclude-from="$list"',
    // On resync every file is compared by checksum, so changes that kept size and time are found too.
    'if [ "$resync" = true ]; then set -- "$@" --checksum; fi',
    `case "$source" in *:*) set -- "$@" -e 'ssh -o BatchMode=yes' ;; esac`,
    'status=0',
    // The trailing slash puts the tree's contents at the mount root; C locale keeps --stats parseable.
    // rsync's complaints are cut to their tail: SSM keeps only the first 8,000 characters of stderr,
    // and the snapflow-error line must come through.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'LC_ALL=C rsync "$@" -- "${source%/}/" "$destination/" 2>"$errors" || status=$?',
    'tail -n 40 -- "$errors" >&2',
    // Exit code 24: files vanished while rsync ran, which a live source does; the copy is still whole.
    'if [ "$status" -eq 24 ]; then echo "snapflow: some files vanished from $source during the copy" >&2; status=0; fi',
    'if [ "$status" -ne 0 ]; then fail CopyFailedError "rsync from $source failed with exit code $status"; fi',
  ],
  export: [
    ...PRELUDE,
    "source='{{ Source }}'",
    "destination='{{ Destination }}'",
    // Without the mount, the copy would make the destination an empty tree: --delete empties it.
    'if ! mountpoint -q -- "$source"; then',
    '  fail MountPointMissingError "Source $source is not a mount point: the snapshot is not mounted there"',
    'fi',
    'if [ -L "$destination" ]; then fail ParameterRejectedError "Destination $destination is a symbolic link; give the directory it points to"; fi',
    'if [ -e "$destination" ] && [ ! -d "$destination" ]; then fail ParameterRejectedError "Destination $destination exists and is not a directory"; fi',
    'mkdir -p -- "$destination"',
    // A physical copy belongs on the host's own directories; a dataset mounted there would be overwritten.
    'if mountpoint -q -- "$destination"; then',
    '  fail MountPointBusyError "Destination $destination has a filesystem mounted on it; give a plain directory"',
    'fi',
    'errors=$(mktemp)',
    `trap 'rm -f -- "$errors"' EXIT`,
    'status=0',
    // Trailing slashes copy the snapshot's contents into the destination; --delete makes it an exact
    // copy, so exporting a newer snapshot to the same path transfers only what changed. C locale keeps
    // --stats parseable, and rsync's complaints are cut to their tail as in the copy document.
    'LC_ALL=C rsync -aH --numeric-ids --delete --stats -- "$source/" "$destination/" 2>"$errors" || status=$?',
    'tail -n 40 -- "$errors" >&2',
    'if [ "$status" -ne 0 ]; then fail CopyFailedError "rsync to $destination failed with exit code $status"; fi',
  ],
};

const DESCRIPTIONS: Readonly<Record<DocumentKind, string>> = {
  'check-mount-point': 'Snapflow: succeeds if MountPath is absent or an empty directory with nothing mounted on it.',
  mount: 'Snapflow: bind-mounts an exported dataset (Source) at MountPath, read-only or read-write.',
  unmount: 'Snapflow: unmounts MountPath; succeeds if nothing is mounted there.',
  copy: 'Snapflow: copies a directory tree into a mounted dataset with rsync, preserving modes, times and links.',
  export: 'Snapflow: copies a mounted snapshot (Source) to a physical directory (Destination) with rsync (V2P).',
};

const PARAMETERS: Readonly<Record<DocumentKind, Record<string, DocumentParameter>>> = {
  'check-mount-point': { MountPath: path('Directory the dataset will be mounted on.') },
  mount: {
    ExportKind: {
      type: 'String',
      description: 'How the engine exported the dataset.',
      allowedPattern: PARAMETER_PATTERNS.exportKind,
    },
    Source: path('Where the exported dataset is on this host.'),
    MountPath: path('Directory to mount the dataset on; created if absent, must be empty.'),
    Access: { type: 'String', description: 'ro or rw.', allowedPattern: PARAMETER_PATTERNS.access },
  },
  unmount: {
    MountPath: path('Directory to unmount.'),
    RemoveMountPoint: {
      type: 'String',
      description: 'true also removes the directory once unmounted, if it is empty.',
      allowedPattern: PARAMETER_PATTERNS.flag,
      default: 'false',
    },
  },
  copy: {
    Source: {
      type: 'String',
      description: 'Tree to copy: a path on this host, or user@host:path reached over SSH.',
      allowedPattern: PARAMETER_PATTERNS.copySource,
    },
    Destination: path('Mount point of the dataset to fill.'),
    Excludes: {
      type: 'String',
      description: 'Comma-separated rsync exclude patterns, relative to Source.',
      allowedPattern: PARAMETER_PATTERNS.excludes,
      default: '',
    },
    Resync: {
      type: 'String',
      description: 'true compares every file by checksum.',
      allowedPattern: PARAMETER_PATTERNS.flag,
      default: 'false',
    },
  },
  export: {
    Source: path('Mount point of the snapshot to copy.'),
    Destination: path('Directory to copy to; created if absent, must not be a mount point.'),
  },
};

const STEP_NAMES: Readonly<Record<DocumentKind, string>> = {
  'check-mount-point': 'checkMountPoint',
  mount: 'mount',
  unmount: 'unmount',
  copy: 'copy',
  export: 'export',
};

/** The document kinds, in a stable order. */
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['check-mount-point', 'mount', 'unmount', 'copy', 'export'];

/**
 * The content of one Snapflow document. Local mode runs the same scripts, substituting parameters the
 * way SSM does, so this is the one description of what a host step does.
 *
 * @param timeoutSeconds how long SSM lets the script run
 * @default timeoutSeconds from {@link DEFAULT_TIMEOUT_SECONDS}
 */
export function documentContent(
  kind: DocumentKind,
  timeoutSeconds: number = DEFAULT_TIMEOUT_SECONDS[kind],
): CommandDocumentContent {
  return {
    schemaVersion: '2.2',
    description: DESCRIPTIONS[kind],
    parameters: PARAMETERS[kind],
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: STEP_NAMES[kind],
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { timeoutSeconds, runCommand: SCRIPTS[kind] },
      },
    ],
  };
}

export interface SnapflowDocumentsProps {
  /**
   * How long one copy (a sync's on the staging host, or a V2P export) may run; the first copy of a
   * large tree takes longest.
   * @default 1 hour
   */
  readonly copyTimeout?: Duration;
}

/**
 * The SSM Command documents Snapflow runs on hosts: check-mount-point, mount, unmount, copy and export.
 * Each carries `SnapflowDocument: <kind>` metadata, by which local mode finds the script to run.
 */
export class SnapflowDocuments extends Construct {
  /** The documents by kind. */
  readonly documents: Readonly<Record<DocumentKind, ssm.CfnDocument>>;
  /** How long SSM lets each document run, in seconds. */
  readonly timeoutSeconds: Readonly<Record<DocumentKind, number>>;

  constructor(scope: Construct, id: string, props: SnapflowDocumentsProps = {}) {
    super(scope, id);
    const copy = props.copyTimeout?.toSeconds() ?? DEFAULT_TIMEOUT_SECONDS.copy;
    if (!Number.isInteger(copy) || copy < 1 || copy > MAX_TIMEOUT_SECONDS) {
      throw new Error(
        `copyTimeout must be whole seconds from 1 to ${MAX_TIMEOUT_SECONDS} (SSM's limit, 48 hours), got ${copy}`,
      );
    }
    this.timeoutSeconds = { ...DEFAULT_TIMEOUT_SECONDS, copy, export: copy };
    const create = (kind: DocumentKind, construct: string) => {
      const document = new ssm.CfnDocument(this, construct, {
        documentType: 'Command',
        documentFormat: 'JSON',
        content: documentContent(kind, this.timeoutSeconds[kind]),
      });
      document.addMetadata('SnapflowDocument', kind);
      return document;
    };
    this.documents = {
      'check-mount-point': create('check-mount-point', 'CheckMountPoint'),
      mount: create('mount', 'Mount'),
      unmount: create('unmount', 'Unmount'),
      copy: create('copy', 'Copy'),
      export: create('export', 'Export'),
    };
  }

  /** The ARN of a document, for IAM policies. */
  arn(kind: DocumentKind): string {
    return Stack.of(this).formatArn({ service: 'ssm', resource: 'document', resourceName: this.documents[kind].ref });
  }
}
