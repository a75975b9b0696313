#!/usr/bin/env -S npx tsx
import { main } from '../lib/cli/main';

const { stderr } = process;

// A reader that stops early (`snapflow vdb list | head`) closes the pipe: that ends the output, not the CLI in error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(
  process.argv.slice(2),
  (line) => process.stdout.write(`${line}\n`),
  (line) => stderr.write(`${line}\n`),
  {
    // On a terminal the progress line is redrawn in place: carriage return, then erase the line.
    ...(stderr.isTTY ? { progress: (text: string) => stderr.write(`\r\x1b[2K${text}`) } : {}),
    stopRequested: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
  },
).then((code) => {
  process.exitCode = code;
});
