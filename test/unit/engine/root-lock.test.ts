import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import { lockRoot } from '../../../lib/engine/root-lock';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const REPO = resolve(__dirname, '../../..');
const TSX = join(REPO, 'node_modules/.bin/tsx');
/** Above Linux's pid_max (2^22), so no process has it. */
const DEAD_PID = 4194305;
const RACERS = 4;
const ROUNDS = 40;

/** What a crashed engine can leave as its lock, and what a crashed racer can leave besides. */
const STALE_LOCKS: Record<string, (directory: string) => Promise<void>> = {
  'a lock of a dead process': (directory) =>
    writeFile(join(directory, 'engine.lock'), JSON.stringify({ pid: DEAD_PID, nonce: 'a'.repeat(32) })),
  'a lock of an earlier version, without a nonce': (directory) =>
    writeFile(join(directory, 'engine.lock'), JSON.stringify({ pid: DEAD_PID })),
  'an empty lock, as an earlier version could leave': (directory) => writeFile(join(directory, 'engine.lock'), ''),
  'a lock whose pid now belongs to another process': (directory) =>
    writeFile(
      join(directory, 'engine.lock'),
      JSON.stringify({ pid: process.pid, startTime: '1', nonce: 'b'.repeat(32) }),
    ),
  'a dead lock and the claim of a racer that died taking it over': async (directory) => {
    await writeFile(join(directory, 'engine.lock'), JSON.stringify({ pid: DEAD_PID, nonce: 'c'.repeat(32) }));
    await writeFile(
      join(directory, `engine.lock.takeover-${'c'.repeat(32)}`),
      JSON.stringify({ pid: DEAD_PID, nonce: 'd'.repeat(32) }),
    );
    await writeFile(join(directory, `.engine.lock.tmp-${DEAD_PID}-0123456789ab`), '{}');
  },
};

describe('lockRoot', () => {
  let temp: string;

  beforeEach(async () => {
    temp = await makeTempRoot('root-lock');
  });

  afterEach(async () => {
    await removeTempRoot(temp);
  });

  it('takes a free root, refuses it to a second taker in this process, and frees it on release', async () => {
    // Act
    const lock = await lockRoot(temp);
    const second = lockRoot(temp);

    // Assess
    await expect(second).rejects.toMatchObject({ name: ErrorNames.Conflict, message: expect.stringContaining(temp) });
    const written = JSON.parse(await readFile(join(temp, 'engine.lock'), 'utf8'));
    expect(written).toEqual({
      pid: process.pid,
      startTime: expect.any(String),
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(await readdir(temp)).toEqual(['engine.lock']);
    await lock.release();
    await lock.release();
    expect(await readdir(temp)).toEqual([]);
    await (await lockRoot(temp)).release();
  });

  it('refuses a root whose lock names a live process, naming it, and leaves that lock alone', async () => {
    const lock = JSON.stringify({ pid: process.ppid, nonce: 'e'.repeat(32) });
    await writeFile(join(temp, 'engine.lock'), lock);
    await expect(lockRoot(temp)).rejects.toMatchObject({
      name: ErrorNames.Conflict,
      message: expect.stringContaining(`process ${process.ppid}`),
    });
    expect(await readFile(join(temp, 'engine.lock'), 'utf8')).toBe(lock);
    expect(await readdir(temp)).toEqual(['engine.lock']);
  });

  it.each(Object.keys(STALE_LOCKS))('takes over %s, clearing what dead racers left', async (name) => {
    await STALE_LOCKS[name]?.(temp);
    const lock = await lockRoot(temp);
    expect(JSON.parse(await readFile(join(temp, 'engine.lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await readdir(temp)).toEqual(['engine.lock']);
    await lock.release();
  });

  it('waits for a live process taking over the stale lock, then refuses once the timeout passes', async () => {
    await writeFile(join(temp, 'engine.lock'), JSON.stringify({ pid: DEAD_PID, nonce: 'f'.repeat(32) }));
    // A claim held by a live process: that process alone may remove the stale lock.
    await writeFile(
      join(temp, `engine.lock.takeover-${'f'.repeat(32)}`),
      JSON.stringify({ pid: process.ppid, nonce: '0'.repeat(32) }),
    );
    const started = Date.now();
    await expect(lockRoot(temp, { timeoutMs: 300 })).rejects.toMatchObject({ name: ErrorNames.Conflict });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await readdir(temp)).sort()).toEqual(['engine.lock', `engine.lock.takeover-${'f'.repeat(32)}`]);
  });
});

describe('lockRoot raced by several processes', () => {
  let temp: string;
  const racers: ChildProcess[] = [];
  const answers = new Map<ChildProcess, string[]>();

  beforeAll(async () => {
    temp = await makeTempRoot('root-lock-race');
    for (let index = 0; index < RACERS; index += 1) {
      const child = spawn(TSX, ['test/support/lock-racer.ts'], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
      racers.push(child);
      answers.set(child, []);
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        answers.get(child)?.push(...lines);
      });
    }
    await Promise.all(racers.map((child) => waitFor(() => answers.get(child)?.includes('ready') ?? false, 60_000)));
  });

  afterAll(async () => {
    try {
      for (const child of racers) {
        child.stdin?.end();
        if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
      }
      await Promise.all(
        racers.map((child) =>
          child.exitCode !== null || child.signalCode !== null
            ? undefined
            : new Promise((resolveExit) => child.once('exit', resolveExit)),
        ),
      );
    } finally {
      await removeTempRoot(temp);
    }
  });

  it(`lets exactly one of ${RACERS} processes take a stale lock, in each of ${ROUNDS} rounds`, async () => {
    const kinds = Object.keys(STALE_LOCKS);
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Prepare: a root of its own per round, with a stale lock of one kind or another.
      const kind = kinds[round % kinds.length] as string;
      const directory = join(temp, `round-${round}`);
      await mkdir(directory);
      await STALE_LOCKS[kind]?.(directory);

      // Act: all racers start at the same moment.
      const startAt = Date.now() + 40;
      for (const child of racers) child.stdin?.write(`race ${directory} ${startAt}\n`);
      const outcome = (child: ChildProcess) =>
        answers
          .get(child)
          ?.find((line) => line.startsWith(`won ${directory} `) || line.startsWith(`lost ${directory} `));
      await waitFor(() => racers.every((child) => outcome(child) !== undefined), 30_000);

      // Assess
      const lines = racers.map((child) => outcome(child) as string);
      const winners = lines.filter((line) => line.startsWith('won '));
      const losers = lines.filter((line) => line.startsWith('lost '));
      const lock = JSON.parse(await readFile(join(directory, 'engine.lock'), 'utf8')) as { pid: number };
      const left = (await readdir(directory)).sort();
      if (
        winners.length !== 1 ||
        winners[0] !== `won ${directory} ${lock.pid}` ||
        losers.some((line) => !line.startsWith(`lost ${directory} ${ErrorNames.Conflict} `)) ||
        left.join() !== 'engine.lock'
      )
        failures.push(`round ${round} (${kind}): ${JSON.stringify({ lines, lock, left })}`);
    }
    expect(failures).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 5));
  }
}
