import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../../../lib/core/errors';
import { createDSource } from '../../../../lib/core/steps/create-dsource';
import { linkRequest, seedSource } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('createDSource', () => {
  it('creates the dSource with the linked source parameters', async () => {
    const engine = new FakeEngine();
    const request = linkRequest(await seedSource(engine), { excludes: ['*.tmp'] });

    const { dsourceId } = await createDSource(request, { engine });

    expect(engine.dsources.get(dsourceId)).toMatchObject({
      name: 'data',
      sourceConfigId: request.sourceConfigId,
      stagingEnvironmentId: request.stagingEnvironmentId,
      parameters: request.linkedSource,
    });
  });

  it("plans the link's undo unmount of its storage on the staging host, only a bind of its export", async () => {
    const engine = new FakeEngine();
    const request = linkRequest(await seedSource(engine));

    const { dsourceId, unmount } = await createDSource(request, { engine });

    const timeflowId = engine.dsources.get(dsourceId)?.currentTimeflowId;
    expect(unmount).toEqual({
      document: 'unmount',
      hostId: 'i-0staging',
      parameters: { MountPath: ['/mnt/staging/data'], Source: [`/var/lib/snapflow/timeflows/${timeflowId}`] },
    });
  });

  it('deletes the new dSource again when planning the undo fails', async () => {
    const engine = new FakeEngine();
    const request = linkRequest(await seedSource(engine));
    engine.failNext('exportDataset', new SnapflowError(ErrorNames.Storage, 'export failed', { action: 'Check.' }));

    await expect(createDSource(request, { engine })).rejects.toMatchObject({ name: 'StorageError' });
    expect(engine.dsources.size).toBe(0);
  });

  it('creates the dSource with the id the request chose', async () => {
    const engine = new FakeEngine();
    const request = { ...linkRequest(await seedSource(engine)), dsourceId: 'ds-00000000000000aa' };

    const { dsourceId } = await createDSource(request, { engine });

    expect(dsourceId).toBe('ds-00000000000000aa');
    expect(engine.dsources.get(dsourceId)?.currentTimeflowId).toEqual(expect.any(String));
  });

  it('gives the engine the policy and event sources of the request', async () => {
    const engine = new FakeEngine();
    const policy = { retention: { keepAtLeast: 3 } };
    const eventSources = [{ kind: 's3' as const, bucket: 'landing-zone', prefix: 'data/' }];
    const request = { ...linkRequest(await seedSource(engine)), policy, eventSources };

    await createDSource(request, { engine });

    expect(engine.calls.find((call) => call.method === 'createDSource')?.args[0]).toMatchObject({
      policy,
      eventSources,
    });
  });

  it('leaves both to the engine when the request gives neither', async () => {
    const engine = new FakeEngine();

    await createDSource(linkRequest(await seedSource(engine)), { engine });

    const input = engine.calls.find((call) => call.method === 'createDSource')?.args[0] as object;
    expect(Object.keys(input)).not.toContain('policy');
    expect(Object.keys(input)).not.toContain('eventSources');
  });
});
