import { describe, expect, it } from 'vitest';
import type { Environment, SourceConfig } from '../../../lib/core/model';
import { isLocalAddress, operations, type StagedSource } from '../../../lib/plugins/directory-tree/operations';

const staging: Environment = {
  id: 'env-0000000000000001',
  name: 'staging',
  hostId: 'local',
  scratchPath: '/var/tmp/snapflow',
  createdAt: '',
};
const sourceConfig: SourceConfig = {
  id: 'sc-0000000000000001',
  environmentId: staging.id,
  name: 'data',
  path: '/srv/data',
  createdAt: '',
};

function staged(parameters: Partial<StagedSource['parameters']> = {}): StagedSource {
  return {
    stagingEnvironment: staging,
    sourceConfig,
    parameters: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging', ...parameters },
  };
}

describe('operations.linked.preSnapshot', () => {
  it('copies locally when the source is the staging host itself', () => {
    const plan = operations.linked.preSnapshot(staged(), { resync: false });
    expect(plan).toEqual({
      document: 'copy',
      hostId: 'local',
      parameters: { Source: ['/srv/data'], Destination: ['/mnt/staging'], Excludes: [''], Resync: ['false'] },
    });
  });

  it('pulls over SSH from another source host, with excludes and resync', () => {
    const plan = operations.linked.preSnapshot(
      staged({ sourceAddress: '10.1.2.3', username: 'delphix', excludes: ['*.tmp', 'cache/'] }),
      {
        resync: true,
      },
    );
    expect(plan.parameters).toEqual({
      Source: ['delphix@10.1.2.3:/srv/data'],
      Destination: ['/mnt/staging'],
      Excludes: ['*.tmp,cache/'],
      Resync: ['true'],
    });
  });
});

describe("operations.linked.preSnapshot with the staging host's SSH client files", () => {
  const withClient = { ...staging, sshClient: { identityFile: '/keys/id', knownHostsFile: '/keys/known_hosts' } };

  it('passes them to a copy from another host, and not to a local copy, which needs no SSH', () => {
    const remote = operations.linked.preSnapshot(
      { ...staged({ sourceAddress: '10.1.2.3' }), stagingEnvironment: withClient },
      { resync: false },
    );
    const local = operations.linked.preSnapshot({ ...staged(), stagingEnvironment: withClient }, { resync: false });

    expect(remote.parameters).toMatchObject({
      SshIdentityFile: ['/keys/id'],
      SshKnownHostsFile: ['/keys/known_hosts'],
    });
    expect(Object.keys(local.parameters)).toEqual(['Source', 'Destination', 'Excludes', 'Resync']);
  });
});

describe('isLocalAddress', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '[::1]'])('takes %j for the staging host itself', (address) => {
    expect(isLocalAddress(address)).toBe(true);
  });

  it.each(['127.0.0.2', 'localhost.example.com', '[fe80::1]', '::1'])('takes %j for another host', (address) => {
    expect(isLocalAddress(address)).toBe(false);
  });
});

describe('operations.linked.preSnapshot over SSH to an IPv6 address', () => {
  it('keeps the brackets, which rsync strips before it calls ssh', () => {
    const plan = operations.linked.preSnapshot(staged({ sourceAddress: '[2001:db8::7]', username: 'snap' }), {
      resync: false,
    });

    expect(plan.parameters.Source).toEqual(['snap@[2001:db8::7]:/srv/data']);
  });
});

describe('operations.linked.mountSpecification', () => {
  it('mounts at the linked source mount location on the staging host', () => {
    expect(operations.linked.mountSpecification(staged())).toEqual({ hostId: 'local', mountPath: '/mnt/staging' });
  });
});

describe('operations.virtual', () => {
  const source = { environment: staging, parameters: { mountLocation: '/mnt/vdb' } };

  it('configure names the source config after the mount location, as the tutorial does', () => {
    expect(operations.virtual.configure(source)).toEqual({ name: 'VDB mounted at /mnt/vdb', path: '/mnt/vdb' });
  });

  it('reconfigure keeps the source config', () => {
    const config = { name: 'x', path: '/mnt/x' };
    expect(operations.virtual.reconfigure(config)).toBe(config);
  });

  it('mounts on the target environment', () => {
    expect(operations.virtual.mountSpecification(source)).toEqual({ hostId: 'local', mountPath: '/mnt/vdb' });
  });
});

describe('operations.discovery', () => {
  it('reports one repository per host and no automatic source configs', () => {
    expect(operations.discovery.repository(staging)).toEqual([{ name: 'Directory trees on staging' }]);
    expect(operations.discovery.sourceConfig()).toEqual([]);
  });
});
