import { describe, expect, it } from 'vitest';
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

  it('creates the dSource with the id the request chose', async () => {
    const engine = new FakeEngine();
    const request = { ...linkRequest(await seedSource(engine)), dsourceId: 'ds-00000000000000aa' };

    const { dsourceId } = await createDSource(request, { engine });

    expect(dsourceId).toBe('ds-00000000000000aa');
    expect(engine.dsources.get(dsourceId)?.currentTimeflowId).toEqual(expect.any(String));
  });
});
