#!/usr/bin/env node
/** `jumpbox-builder` entry point (the package's bin); the dispatcher lives in ./dispatch.ts. */
import { main } from './dispatch.js';

export { type CliCommand, main, UsageError } from './dispatch.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`jumpbox-builder: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
