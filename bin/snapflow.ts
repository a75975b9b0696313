#!/usr/bin/env -S npx tsx
import { main } from '../lib/cli/main';

const { stderr } = process;

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
