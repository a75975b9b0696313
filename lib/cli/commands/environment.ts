import { createVerb, deleteVerb, listVerb, recordVerb } from '../api-verbs';
import { CliError, type CommandNoun, type FlagValues, optionalFlag, requiredFlag } from '../cli-command';

/** `snapflow environment …`: the hosts Snapflow reaches. */
export const environmentCommand: CommandNoun = {
  noun: 'environment',
  summary: 'Unix hosts: SSM managed instances on AWS; `local` and `ssh-NAME` hosts in local mode',
  verbs: {
    add: createVerb({
      operationId: 'createEnvironment',
      summary: 'Register a host',
      usage:
        '--name NAME --host-id local|i-…|mi-…|ssh-NAME [--scratch-path DIR] ' +
        '[--ssh-address ADDRESS --ssh-user USER --ssh-identity-file FILE --ssh-known-hosts-file FILE [--ssh-port PORT]] ' +
        '[--client-identity-file FILE --client-known-hosts-file FILE]',
      flags: {
        name: { type: 'string' },
        'host-id': { type: 'string' },
        'scratch-path': { type: 'string' },
        'ssh-address': { type: 'string' },
        'ssh-port': { type: 'string' },
        'ssh-user': { type: 'string' },
        'ssh-identity-file': { type: 'string' },
        'ssh-known-hosts-file': { type: 'string' },
        'client-identity-file': { type: 'string' },
        'client-known-hosts-file': { type: 'string' },
      },
      body: (values) => {
        const scratchPath = optionalFlag(values, 'scratch-path');
        const ssh = sshAccess(values);
        const sshClient = sshClientFiles(values);
        return {
          name: requiredFlag(values, 'name'),
          host_id: requiredFlag(values, 'host-id'),
          ...(scratchPath === undefined ? {} : { scratch_path: scratchPath }),
          ...(ssh === undefined ? {} : { ssh }),
          ...(sshClient === undefined ? {} : { ssh_client: sshClient }),
        };
      },
    }),
    list: listVerb({
      operationId: 'listEnvironments',
      summary: 'List hosts',
      columns: [
        ['id', (record) => record.id],
        ['name', (record) => record.name],
        ['host', (record) => record.host_id],
        ['scratch path', (record) => record.scratch_path],
        ['created', (record) => record.created_at],
      ],
    }),
    show: recordVerb('getEnvironment', 'Show a host', 'environment-id'),
    delete: deleteVerb('deleteEnvironment', 'Forget a host nothing uses any more', 'environment-id'),
  },
};

const anyGiven = (values: FlagValues, flags: readonly string[]) =>
  flags.some((flag) => optionalFlag(values, flag) !== undefined);

/** The `ssh` object from the --ssh-* flags, or undefined when none is given. */
function sshAccess(values: FlagValues): Record<string, unknown> | undefined {
  const port = optionalFlag(values, 'ssh-port');
  if (!anyGiven(values, ['ssh-address', 'ssh-user', 'ssh-identity-file', 'ssh-known-hosts-file', 'ssh-port']))
    return undefined;
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port))
    throw new CliError(`--ssh-port ${port} is not a port number; give one from 1 to 65535`);
  return {
    address: requiredFlag(values, 'ssh-address'),
    user: requiredFlag(values, 'ssh-user'),
    identity_file: requiredFlag(values, 'ssh-identity-file'),
    known_hosts_file: requiredFlag(values, 'ssh-known-hosts-file'),
    ...(port === undefined ? {} : { port: Number(port) }),
  };
}

/** The `ssh_client` object from the --client-* flags, or undefined when neither is given. */
function sshClientFiles(values: FlagValues): Record<string, unknown> | undefined {
  if (!anyGiven(values, ['client-identity-file', 'client-known-hosts-file'])) return undefined;
  return {
    identity_file: requiredFlag(values, 'client-identity-file'),
    known_hosts_file: requiredFlag(values, 'client-known-hosts-file'),
  };
}
