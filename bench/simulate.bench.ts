/**
 * `npm run simulate` as a user runs it: the real time of each variant in a fresh process (start-up of
 * Azurite, the ARM emulator and the local Durable host included). These figures used to be bounds in
 * test/simulate/simulate.test.ts ("< 30 s"); they are measurements, not assertions. Baseline: the same
 * process start-up with nothing to do (`cli --help`), side by side.
 * Variants: SIMULATE_VARIANTS=none,customizer,validation,distribution,timeout (default none,distribution).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, line, round } from './lib/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const variants = (process.env.SIMULATE_VARIANTS ?? 'none,distribution').split(',');

function run(args: string[]): { seconds: number; code: number | null; status: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOCAL_DURABLE_HOST_LOG: '' },
  });
  const seconds = round((performance.now() - t) / 1000);
  let status = '';
  try {
    status = (JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { status?: string }).status ?? '';
  } catch {}
  return { seconds, code: r.status, status };
}

const baseline = run(['--help']);
line(`baseline: cli --help ${baseline.seconds} s (exit ${baseline.code})`);
const rows: { variant: string; seconds: number; exitCode: number | null; status: string }[] = [];
for (const v of variants) {
  const r = run(['simulate', '--json', ...(v === 'none' ? [] : ['--fail', v])]);
  rows.push({ variant: v, seconds: r.seconds, exitCode: r.code, status: r.status });
  line(
    `simulate ${v === 'none' ? '(default)' : `--fail ${v}`}: ${r.status || '?'} exit ${r.code}, ${r.seconds} s real (${round(r.seconds - baseline.seconds)} s beyond start-up)`,
  );
}
emit('simulate', { baselineSeconds: baseline.seconds, variants: rows });
