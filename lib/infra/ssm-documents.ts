import { type Duration, Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { DocumentKind } from '../core/host-plan';
import { MOUNT_PATH_PATTERN, SSH_FILE_PATTERN, SYSTEM_DIRECTORIES, UNIX_PATH_PATTERN } from '../core/paths';
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
 * substituted between single quotes stays one literal word; and none starts with `-`, so no value can
 * be read as an option (the scripts also end options with `--`).
 */
export const PARAMETER_PATTERNS = {
  /** A path the engine hands out (an export's source); it may lie anywhere, system directories included. */
  path: UNIX_PATH_PATTERN,
  /** A path Snapflow mounts on, unmounts, copies or exports to: never `/` nor a system directory. */
  mountPath: MOUNT_PATH_PATTERN,
  /** {@link PARAMETER_PATTERNS.path}, or nothing. */
  optionalPath: `^(?:${inner(UNIX_PATH_PATTERN)})?$`,
  /** A file ssh reads (a key, a known_hosts file), or nothing: a path without `%`, which ssh would expand. */
  optionalSshFile: `^(?:${inner(SSH_FILE_PATTERN)})?$`,
  /**
   * A path on the staging host, or `user@host:path` on a source host reached over SSH; a host name has
   * no `:` (`host::path` would be rsync's daemon mode, without SSH), an IPv6 address is in brackets.
   */
  copySource: `^(?:${inner(username.pattern)}@(?:${inner(sourceAddress.pattern)}):)?${inner(UNIX_PATH_PATTERN)}$`,
  /** The plugin's exclude patterns joined by commas, or nothing. */
  excludes: `^(?:${excludeItem}(?:,${excludeItem})*)?$`,
  flag: '^(true|false)$',
  access: '^(ro|rw)$',
  exportKind: '^bind$',
} as const;

const parameter = (pattern: keyof typeof PARAMETER_PATTERNS, description: string): DocumentParameter => ({
  type: 'String',
  description,
  allowedPattern: PARAMETER_PATTERNS[pattern],
});

/** The system directories as `case` patterns: each one and everything below it. */
const SYSTEM_CASE_PATTERNS = ['/', ...SYSTEM_DIRECTORIES.flatMap((directory) => [directory, `${directory}/*`])].join(
  ' | ',
);

/**
 * The start of every script: POSIX sh (Debian's sh is dash), stop at the first failing command, and
 * `fail` to report a named error the way raiseHostError reads it, on one stderr line. A script ends
 * through its EXIT trap whatever ends it, a cancel or timeout (SIGTERM) included, so that `cleanup`
 * (which a script may define again) always runs with the exit status.
 */
const PRELUDE = [
  'set -eu',
  `fail() { printf 'snapflow-error: %s: %s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ')" >&2; exit 1; }`,
  'cleanup() { :; }',
  `trap 'status=$?; trap - EXIT; cleanup "$status"; exit "$status"' EXIT`,
  `trap 'exit 143' HUP INT TERM`,
  // Paths of up to 4 KiB are cut in messages that follow other output, which SSM keeps only 8,000 characters of.
  `short() { if [ "\${#1}" -le 200 ]; then printf '%s' "$1"; else printf '%s...%s' "$(printf '%s' "$1" | cut -c 1-120)" "$(printf '%s' "$1" | cut -c "$((\${#1} - 59))-")"; fi; }`,
  // The patterns refuse `/` and the system directories as written; this refuses them as the host
  // resolves the path, e.g. /var/run/x, which is /run/x. A symbolic link anywhere in the path is refused:
  // what Snapflow mounts on, copies to or unmounts must be where the checks before it looked.
  // `path_problem NAME PATH` sets `problem` to what is wrong, or to nothing; `check_path` fails with it.
  'path_problem() {',
  "  problem=''",
  '  if ! resolved=$(realpath -m -- "$2" 2>&1); then problem="$1 $2 cannot be resolved on this host: $resolved"; return 0; fi',
  '  if [ "$resolved" != "$(realpath -m -s -- "$2")" ]; then',
  '    problem="$1 $2 leads through a symbolic link to $resolved; give a path without symbolic links"',
  '    return 0',
  '  fi',
  '  case "$resolved" in',
  `    ${SYSTEM_CASE_PATTERNS}) problem="$1 $2 is the root directory or a system directory, or lies in one" ;;`,
  '  esac',
  '}',
  'check_path() {',
  '  path_problem "$1" "$2"',
  '  if [ -n "$problem" ]; then fail ParameterRejectedError "$problem"; fi',
  '}',
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

/**
 * `mkdir -p` of the directory in `$1`, remembering the highest one it created in `created_top`, so that
 * `remove_created` can take them away again after a failure: deepest first, and only while empty.
 */
const MAKE_DIRECTORIES = [
  "created_top=''",
  'make_directories() {',
  '  dir=$1',
  '  while [ ! -e "$dir" ] && [ ! -L "$dir" ]; do created_top=$dir; dir=$(dirname -- "$dir"); done',
  '  mkdir -p -- "$1"',
  '}',
  'remove_created() {',
  '  if [ -z "$created_top" ]; then return 0; fi',
  '  dir=$1',
  '  while rmdir -- "$dir" 2>/dev/null && [ "$dir" != "$created_top" ]; do dir=$(dirname -- "$dir"); done',
  '}',
];

const SCRIPTS: Readonly<Record<DocumentKind, string[]>> = {
  'check-mount-point': [
    ...PRELUDE,
    "path='{{ MountPath }}'",
    // Read-only: nothing here creates or changes anything on the host.
    ...REQUIRE_DIRECTORY_OR_ABSENT,
    'check_path MountPath "$path"',
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
    'check_path MountPath "$path"',
    ...MAKE_DIRECTORIES,
    // Workflows take a failed mount for no mount at all: a failure, a cancel or a timeout undoes the
    // bind this command made and removes the directories it created.
    'bound=false',
    'cleanup() {',
    '  if [ "$1" -eq 0 ]; then return 0; fi',
    '  if [ "$bound" = true ] && ! umount -- "$path" 2>/dev/null; then',
    '    echo "snapflow: the bind mount at $path could not be undone" >&2',
    '  fi',
    '  remove_created "$path"',
    '}',
    'make_directories "$path"',
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
    '  bound=true',
    '  if ! error=$(mount -o "remount,bind,$access" -- "$path" 2>&1); then',
    '    fail HostCommandFailedError "MountPath $path could not be mounted $access: $error"',
    '  fi',
    'fi',
  ],
  unmount: [
    ...PRELUDE,
    "path='{{ MountPath }}'",
    "remove='{{ RemoveMountPoint }}'",
    "source='{{ Source }}'",
    // Snapflow mounts nothing where check_path refuses, so nothing of Snapflow's is mounted there (and
    // what is, is not Snapflow's to unmount): the state this command brings about holds already.
    'path_problem MountPath "$path"',
    'if [ -n "$problem" ]; then echo "snapflow: nothing unmounted: $problem"; exit 0; fi',
    // Nothing mounted is the state this command brings about, so it succeeds.
    'mounted=false',
    'if [ -d "$path" ] && mountpoint -q -- "$path"; then mounted=true; fi',
    // Given a Source, only a bind of it counts: what else is mounted there is not this dataset's to unmount.
    'if [ "$mounted" = true ] && [ -n "$source" ] && [ "$(stat -c %d:%i -- "$path")" != "$(stat -c %d:%i -- "$source" 2>/dev/null || true)" ]; then',
    '  echo "snapflow: MountPath $path holds another filesystem than Source $source; it stays mounted"',
    '  mounted=other',
    'fi',
    'if [ "$mounted" = true ]; then',
    // A process that is just leaving the tree holds it briefly; try a few times before calling it busy.
    '  tries=0',
    '  until error=$(umount -- "$path" 2>&1); do',
    '    tries=$((tries + 1))',
    '    if [ "$tries" -ge 5 ]; then fail MountPointBusyError "MountPath $path is still in use: $error"; fi',
    '    sleep 1',
    '  done',
    'fi',
    // rmdir removes only an empty directory: what is left in it once unmounted is not Snapflow's to delete.
    'if [ "$remove" = true ] && [ "$mounted" != other ] && [ -d "$path" ]; then rmdir -- "$path"; fi',
  ],
  copy: [
    ...PRELUDE,
    "source='{{ Source }}'",
    "destination='{{ Destination }}'",
    "excludes='{{ Excludes }}'",
    "resync='{{ Resync }}'",
    "identity='{{ SshIdentityFile }}'",
    "known_hosts='{{ SshKnownHostsFile }}'",
    'check_path Destination "$destination"',
    // Without the mount, the copy would fill the host's own disk instead of the dataset.
    'if ! mountpoint -q -- "$destination"; then',
    '  fail MountPointMissingError "Destination $destination is not a mount point: the dataset is not mounted there"',
    'fi',
    // Written in place, a file linked under several names changes under all of them, also where the
    // source has since broken the link; so each such file first gets data of its own (a reflink where
    // the pool can), and rsync (run with --inplace below) links again what the source links.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'if ! find "$destination" -xdev -type f -links +1 -exec sh -c \'for f do t=$(mktemp -- "${f%/*}/.snapflow-XXXXXX") && cp -p --reflink=auto -- "$f" "$t" && mv -f -- "$t" "$f" || exit 1; done\' sh {} +; then',
    '  fail CopyFailedError "could not unlink the files linked under several names in $(short "$destination") before the copy"',
    'fi',
    // The trap is in place before the files exist, so that no exit leaves them behind.
    "list='' errors=''",
    'cleanup() { rm -f -- "$list" "$errors"; }',
    'list=$(mktemp)',
    'errors=$(mktemp)',
    `printf '%s' "$excludes" | tr ',' '\\n' > "$list"`,
    // A file changed in place (a database's pages) is updated block by block in the file itself: by
    // default rsync writes every changed file anew, which costs a full read and write of it and, on a
    // copy-on-write pool, shares nothing of it with the previous snapshot. 128 KiB is rsync's largest
    // block: fewer checksums to compute and match.
    'set -- --archive --hard-links --numeric-ids --delete --stats --inplace --no-whole-file --block-size=131072 --exclude-from="$list"',
    // On resync every file is compared by checksum, so changes that kept size and time are found too.
    'if [ "$resync" = true ]; then set -- "$@" --checksum; fi',
    // From another host over SSH: never a prompt, the host's key must be known, and a host that stops
    // answering ends the copy within 30 s rather than at the document's timeout. The file names match
    // a pattern without spaces or quotes, so rsync splits this command into the words written here.
    'remote=false',
    'case "$source" in *:*)',
    '  remote=true',
    "  ssh='ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3'",
    '  if [ -n "$identity" ]; then ssh="$ssh -o IdentitiesOnly=yes -i $identity"; fi',
    '  if [ -n "$known_hosts" ]; then ssh="$ssh -o UserKnownHostsFile=$known_hosts -o GlobalKnownHostsFile=/dev/null"; fi',
    '  set -- "$@" -e "$ssh"',
    '  ;;',
    'esac',
    'status=0',
    // The trailing slash puts the tree's contents at the mount root; C locale keeps --stats parseable.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'LC_ALL=C rsync "$@" -- "${source%/}/" "$destination/" 2>"$errors" || status=$?',
    // SSM keeps only the first 8,000 characters of stderr, and the snapflow-error line must come through:
    // rsync's complaints (which name paths of up to 4 KiB) are cut to their last 3,000 bytes.
    'tail -c 3000 -- "$errors" >&2',
    // Exit code 24: files vanished while rsync ran, which a live source does; the copy is still whole.
    'if [ "$status" -eq 24 ]; then echo "snapflow: some files vanished from $(short "$source") during the copy" >&2; status=0; fi',
    'if [ "$status" -eq 0 ]; then exit 0; fi',
    'if grep -q "No space left on device" -- "$errors"; then',
    '  fail StorageFullError "the dataset mounted at $(short "$destination") is full: rsync from $(short "$source") stopped with exit code $status"',
    'fi',
    // A refused host key or login does not mend by itself; the errors below are retried.
    'if [ "$remote" = true ] && grep -q -e "Host key verification failed" -e "Permission denied (publickey" -- "$errors"; then',
    '  fail CopyFailedError "SSH for the copy from $(short "$source") was refused: the host key is not known, or the login key not accepted"',
    'fi',
    // 255: ssh could not connect; 10, 12 and 30: the connection broke or went silent.
    'case "$remote:$status" in true:255 | true:10 | true:12 | true:30)',
    '  fail SourceUnreachableError "the copy from $(short "$source") lost or could not open its SSH connection (rsync exit code $status)" ;;',
    'esac',
    'fail CopyFailedError "rsync from $(short "$source") failed with exit code $status"',
  ],
  export: [
    ...PRELUDE,
    "source='{{ Source }}'",
    "destination='{{ Destination }}'",
    'check_path Source "$source"',
    // Without the mount, the copy would make the destination an empty tree: --delete empties it.
    'if ! mountpoint -q -- "$source"; then',
    '  fail MountPointMissingError "Source $source is not a mount point: the snapshot is not mounted there"',
    'fi',
    'if [ -L "$destination" ]; then fail ParameterRejectedError "Destination $destination is a symbolic link; give the directory it points to"; fi',
    'if [ -e "$destination" ] && [ ! -d "$destination" ]; then fail ParameterRejectedError "Destination $destination exists and is not a directory"; fi',
    'check_path Destination "$destination"',
    ...MAKE_DIRECTORIES,
    "errors=''",
    'cleanup() {',
    '  rm -f -- "$errors"',
    // A failed export takes away the directories it created, as far as they are still empty.
    '  if [ "$1" -ne 0 ]; then remove_created "$destination"; fi',
    '}',
    'make_directories "$destination"',
    // A physical copy belongs on the host's own directories; a dataset mounted there would be overwritten.
    'if mountpoint -q -- "$destination"; then',
    '  fail MountPointBusyError "Destination $destination has a filesystem mounted on it; give a plain directory"',
    'fi',
    'errors=$(mktemp)',
    'status=0',
    // Trailing slashes copy the snapshot's contents into the destination; --delete makes it an exact
    // copy, so exporting a newer snapshot to the same path transfers only what changed. C locale keeps
    // --stats parseable, and rsync's complaints are cut to their tail as in the copy document.
    'LC_ALL=C rsync -aH --numeric-ids --delete --stats -- "$source/" "$destination/" 2>"$errors" || status=$?',
    'tail -c 3000 -- "$errors" >&2',
    'if [ "$status" -ne 0 ]; then fail CopyFailedError "rsync to $(short "$destination") failed with exit code $status"; fi',
  ],
};

const DESCRIPTIONS: Readonly<Record<DocumentKind, string>> = {
  'check-mount-point': 'Snapflow: succeeds if MountPath is absent or an empty directory with nothing mounted on it.',
  mount: 'Snapflow: bind-mounts an exported dataset (Source) at MountPath, read-only or read-write.',
  unmount:
    'Snapflow: unmounts MountPath (with Source, only a bind of Source); succeeds if nothing of it is mounted there.',
  copy: 'Snapflow: copies a directory tree into a mounted dataset with rsync, preserving modes, times and links.',
  export: 'Snapflow: copies a mounted snapshot (Source) to a physical directory (Destination) with rsync (V2P).',
};

const PARAMETERS: Readonly<Record<DocumentKind, Record<string, DocumentParameter>>> = {
  'check-mount-point': { MountPath: parameter('mountPath', 'Directory the dataset will be mounted on.') },
  mount: {
    ExportKind: parameter('exportKind', 'How the engine exported the dataset.'),
    Source: parameter('path', 'Where the exported dataset is on this host.'),
    MountPath: parameter('mountPath', 'Directory to mount the dataset on; created if absent, must be empty.'),
    Access: parameter('access', 'ro or rw.'),
  },
  unmount: {
    MountPath: parameter('mountPath', 'Directory to unmount.'),
    RemoveMountPoint: {
      ...parameter('flag', 'true also removes the directory once unmounted, if it is empty.'),
      default: 'false',
    },
    Source: {
      ...parameter(
        'optionalPath',
        'When given, only a bind mount of this directory is unmounted; another filesystem mounted at MountPath stays.',
      ),
      default: '',
    },
  },
  copy: {
    Source: parameter('copySource', 'Tree to copy: a path on this host, or user@host:path reached over SSH.'),
    Destination: parameter('mountPath', 'Mount point of the dataset to fill.'),
    Excludes: { ...parameter('excludes', 'Comma-separated rsync exclude patterns, relative to Source.'), default: '' },
    Resync: { ...parameter('flag', 'true compares every file by checksum.'), default: 'false' },
    SshIdentityFile: {
      ...parameter(
        'optionalSshFile',
        "For a user@host:path Source: the private key to log in with; else ssh's default.",
      ),
      default: '',
    },
    SshKnownHostsFile: {
      ...parameter(
        'optionalSshFile',
        "For a user@host:path Source: the only known_hosts file to check the host's key against; else ssh's default.",
      ),
      default: '',
    },
  },
  export: {
    Source: parameter('mountPath', 'Mount point of the snapshot to copy.'),
    Destination: parameter('mountPath', 'Directory to copy to; created if absent, must not be a mount point.'),
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
