import type { LinkInput } from '../../lib/core/workflow-inputs';
import type { FakeEngine } from './fake-engine';

/** A source host with a source config at /srv/data, and a staging host; the fake's call log starts empty. */
export async function seedSource(engine: FakeEngine) {
  const sourceHost = await engine.createEnvironment({ name: 'source', hostId: 'i-0source' });
  const stagingHost = await engine.createEnvironment({ name: 'staging', hostId: 'i-0staging' });
  const sourceConfig = await engine.createSourceConfig({
    environmentId: sourceHost.id,
    name: 'data',
    path: '/srv/data',
  });
  engine.calls.length = 0;
  return { sourceHost, stagingHost, sourceConfig };
}

/** A link request over {@link seedSource}'s records, copying from `sourceAddress`. */
export function linkRequest(
  seeded: Awaited<ReturnType<typeof seedSource>>,
  linkedSource: Partial<LinkInput['linkedSource']> = {},
): LinkInput {
  return {
    name: 'data',
    sourceConfigId: seeded.sourceConfig.id,
    stagingEnvironmentId: seeded.stagingHost.id,
    linkedSource: {
      sourceAddress: 'src.example.com',
      username: 'snap',
      mountLocation: '/mnt/staging/data',
      ...linkedSource,
    },
  };
}

/** A linked dSource with one snapshot, and a target host to provision on; the call log starts empty. */
export async function seedSnapshot(engine: FakeEngine) {
  const seeded = await seedSource(engine);
  const request = linkRequest(seeded);
  const dsource = await engine.createDSource({
    name: request.name,
    sourceConfigId: request.sourceConfigId,
    stagingEnvironmentId: request.stagingEnvironmentId,
    parameters: request.linkedSource,
  });
  const snapshot = await engine.snapshotDataset(dsource.id, {
    provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
    metadata: {},
  });
  const targetHost = await engine.createEnvironment({ name: 'target', hostId: 'i-0target' });
  engine.calls.length = 0;
  return { ...seeded, dsource, snapshot, targetHost };
}

/**
 * {@link seedSnapshot}'s records plus a VDB of its snapshot mounted at /mnt/vdbs/dev on the target, as
 * a provision leaves it: RUNNING, configured, with its first snapshot. The call log starts empty.
 */
export async function seedVdb(engine: FakeEngine) {
  const seeded = await seedSnapshot(engine);
  const mountLocation = '/mnt/vdbs/dev';
  const created = await engine.createVdb({
    name: 'dev',
    snapshotId: seeded.snapshot.id,
    environmentId: seeded.targetHost.id,
    parameters: { mountLocation },
  });
  const vdb = await engine.updateVdb(created.id, {
    status: 'RUNNING',
    sourceConfig: { name: `VDB mounted at ${mountLocation}`, path: mountLocation },
  });
  const vdbSnapshot = await engine.snapshotDataset(vdb.id, {
    provenance: { trigger: { kind: 'workflow' }, pluginVersion: '0.1.0' },
    metadata: {},
  });
  engine.calls.length = 0;
  return { ...seeded, vdb, vdbSnapshot };
}
