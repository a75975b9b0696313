import { lockRoot } from '../../lib/engine/root-lock';

/**
 * Child process for the root-lock race test. Reads commands from stdin, one per line:
 * `race <root> <epoch ms>` waits until that moment, then takes the root's lock and keeps it, printing
 * `won <root> <pid>` or `lost <root> <error name> <message>`. Prints `ready` once it listens.
 */
async function race(root: string, startAt: number): Promise<void> {
  // Sleep most of the wait, then spin, so that all racers start within a fraction of a millisecond.
  const wait = startAt - Date.now();
  if (wait > 5) await new Promise((resolve) => setTimeout(resolve, wait - 5));
  while (Date.now() < startAt) {
    // spin
  }
  try {
    await lockRoot(root);
    process.stdout.write(`won ${root} ${process.pid}\n`);
  } catch (error) {
    const { name, message } = error as Error;
    process.stdout.write(`lost ${root} ${name} ${message.replace(/\n/g, ' ')}\n`);
  }
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
    const [command, root, startAt] = buffered.slice(0, newline).split(' ');
    buffered = buffered.slice(newline + 1);
    if (command === 'race' && root !== undefined) void race(root, Number(startAt));
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\n');
