import { MetadataStore } from '../../lib/engine/metadata-store';

/**
 * Child process for the metadata crash test: rewrites the store at argv[2] as fast as it can, each
 * document one environment longer than the last, until it is killed. Prints `ready` after the first write.
 */
async function main(): Promise<void> {
  const path = process.argv[2];
  if (path === undefined) throw new Error('usage: metadata-writer <path>');
  const store = await MetadataStore.open(path);
  let announced = false;
  for (let round = store.document.environments.length; ; round += 1) {
    const environments = Array.from({ length: round + 1 }, (_, index) => ({
      id: `env-${index.toString(16).padStart(16, '0')}`,
      name: `environment ${index} ${'x'.repeat(2000)}`,
      hostId: 'local',
      scratchPath: '/var/tmp/snapflow',
      createdAt: new Date(0).toISOString(),
    }));
    await store.write({ ...store.document, environments });
    if (!announced) process.stdout.write('ready\n');
    announced = true;
  }
}

void main();
