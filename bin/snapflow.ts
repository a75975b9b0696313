#!/usr/bin/env -S npx tsx
import { main } from '../lib/cli/main';

main(
  process.argv.slice(2),
  (line) => process.stdout.write(`${line}\n`),
  (line) => process.stderr.write(`${line}\n`),
).then((code) => {
  process.exitCode = code;
});
