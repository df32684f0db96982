/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (each prints its own figures and ratios against
 * its baseline) and writes the combined output to bench/results/latest.txt.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let combined = '';
let failed = 0;
for (const f of files) {
  const header = `\n=== ${f} (${new Date().toISOString()}, node ${process.version}) ===\n`;
  process.stdout.write(header);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout);
  combined += header + r.stdout;
  if (r.status !== 0) failed++;
}
mkdirSync(join(dir, 'results'), { recursive: true });
writeFileSync(join(dir, 'results', 'latest.txt'), combined.trimStart());
process.exitCode = failed ? 1 : 0;
