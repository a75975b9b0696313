import { beforeEach, describe, expect, it } from 'vitest';
import { validateLink } from '../../../../lib/core/steps/validate-link';
import { linkRequest, seedSource } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('validateLink', () => {
  let engine: FakeEngine;
  let seeded: Awaited<ReturnType<typeof seedSource>>;

  beforeEach(async () => {
    engine = new FakeEngine();
    seeded = await seedSource(engine);
  });

  it('returns the request with its mount location normalized', async () => {
    const request = linkRequest(seeded, { mountLocation: '/mnt//staging/data/' });

    const result = await validateLink(request, { engine });

    expect(result).toEqual({
      ...request,
      linkedSource: { ...request.linkedSource, mountLocation: '/mnt/staging/data' },
    });
    expect(engine.methods).toEqual(['getSourceConfig', 'getEnvironment']);
  });

  it('throws ValidationError naming a missing field', async () => {
    const { linkedSource, ...request } = linkRequest(seeded);

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.linkedSource',
    });
    expect(engine.calls).toEqual([]);
  });

  it('throws ValidationError for a mount location with shell metacharacters', async () => {
    const request = linkRequest(seeded, { mountLocation: '/mnt/$(reboot)' });

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.linkedSource.mountLocation',
    });
  });

  it('throws ValidationError for a mount location in a system directory', async () => {
    const request = linkRequest(seeded, { mountLocation: '/etc/snapflow' });

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'linkedSource.mountLocation',
      message: 'linkedSource.mountLocation is inside the system directory /etc: /etc/snapflow',
      action: expect.stringContaining('/mnt/snapflow'),
    });
  });

  it('refuses a staging mount that overlaps a source on the staging host itself', async () => {
    const local = await engine.createSourceConfig({
      environmentId: seeded.stagingHost.id,
      name: 'local data',
      path: '/srv/data',
    });
    const request = {
      ...linkRequest(seeded, { sourceAddress: 'localhost', mountLocation: '/srv/data/staging' }),
      sourceConfigId: local.id,
    };

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'linkedSource.mountLocation',
      message: expect.stringContaining('overlaps the source path /srv/data'),
    });
  });

  it.each(['localhost', '127.0.0.1', '[::1]', 'LocalHost'])(
    'refuses a copy from %s when the source config is on another host, naming linkedSource.sourceAddress',
    async (sourceAddress) => {
      const request = linkRequest(seeded, { sourceAddress });

      await expect(validateLink(request, { engine })).rejects.toMatchObject({
        name: 'ValidationError',
        field: 'linkedSource.sourceAddress',
        message: expect.stringMatching(
          new RegExp(
            `^linkedSource\\.sourceAddress .* copies on the staging host i-0staging \\(environment ${seeded.stagingHost.id}\\), but source config ${seeded.sourceConfig.id} is on host i-0source`,
          ),
        ),
        action: expect.stringContaining(`Give the address of host i-0source as linkedSource.sourceAddress`),
      });
    },
  );

  it('accepts a copy from localhost when the source config is on another environment of the same host', async () => {
    const sameHost = await engine.createEnvironment({ name: 'staging again', hostId: 'i-0staging' });
    const sourceConfig = await engine.createSourceConfig({ environmentId: sameHost.id, name: 'd', path: '/srv/d' });
    const request = { ...linkRequest(seeded, { sourceAddress: 'localhost' }), sourceConfigId: sourceConfig.id };

    await expect(validateLink(request, { engine })).resolves.toMatchObject({ sourceConfigId: sourceConfig.id });
  });

  it.each(['src:', 'fe80::1', '-oProxyCommand=id', 'a b', "it's"])(
    'refuses the source address %j by its pattern',
    async (sourceAddress) => {
      await expect(validateLink(linkRequest(seeded, { sourceAddress }), { engine })).rejects.toMatchObject({
        name: 'ValidationError',
        field: 'input.linkedSource.sourceAddress',
      });
      expect(engine.calls).toEqual([]);
    },
  );

  it('accepts the same path when the source is on another host', async () => {
    const request = linkRequest(seeded, { mountLocation: '/srv/data' });

    await expect(validateLink(request, { engine })).resolves.toEqual(request);
  });

  it('throws NotFoundError naming sourceConfigId when the source config does not exist', async () => {
    const request = { ...linkRequest(seeded), sourceConfigId: 'sc-00000000000000ff' };

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'sourceConfigId',
      message: 'sourceConfigId sc-00000000000000ff does not exist',
    });
  });

  it('throws NotFoundError naming stagingEnvironmentId when the staging host does not exist', async () => {
    const request = { ...linkRequest(seeded), stagingEnvironmentId: 'env-00000000000000ff' };

    await expect(validateLink(request, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'stagingEnvironmentId',
    });
  });

  it('lets other engine errors through unchanged', async () => {
    const outage = new Error('connection refused');
    engine.failNext('getSourceConfig', outage);

    await expect(validateLink(linkRequest(seeded), { engine })).rejects.toBe(outage);
  });

  it('accepts a dsourceId no dSource has', async () => {
    const request = { ...linkRequest(seeded), dsourceId: 'ds-00000000000000aa' };

    await expect(validateLink(request, { engine })).resolves.toMatchObject({ dsourceId: 'ds-00000000000000aa' });
  });

  it('throws ConflictError naming dsourceId when a dSource has that id already', async () => {
    const taken = await engine.createDSource({
      name: 'other',
      sourceConfigId: seeded.sourceConfig.id,
      stagingEnvironmentId: seeded.stagingHost.id,
      parameters: linkRequest(seeded).linkedSource,
    });

    await expect(validateLink({ ...linkRequest(seeded), dsourceId: taken.id }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'dsourceId',
      message: `dsourceId ${taken.id} is taken: a record with that id exists`,
    });
  });

  it('keeps the policy and event sources, and refuses a policy whose cron is not valid before asking the engine', async () => {
    const policy = { schedule: { cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, retention: { daily: 7 } };
    const eventSources = [{ kind: 's3', bucket: 'landing-zone', prefix: 'data/' }] as const;
    const request = { ...linkRequest(seeded), policy, eventSources: [...eventSources] };

    await expect(validateLink(request, { engine })).resolves.toMatchObject({ policy, eventSources });

    engine.calls.length = 0;
    const bad = { ...request, policy: { schedule: { cron: '61 * * * *', timeZone: 'UTC' } } };
    await expect(validateLink(bad, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'policy.schedule.cron',
    });
    expect(engine.calls).toEqual([]);
  });
});
