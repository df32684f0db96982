/**
 * The local Durable host alone, on the test fixtures: real time of a 40-minute virtual build with 20
 * polls (cold and warm), and of a 10-day durable timer split into segments. These used to be bounds in
 * test/durable-host/orchestrations.test.ts ("well under a second", "< 2 s"); here they are figures.
 * Baseline: an orchestration that only returns (the host's fixed cost per instance), side by side.
 */
import { startTestHost } from '../test/durable-host/support.js';
import { emit, line, round } from './lib/report.js';

const { host } = await startTestHost();
async function timed(name: string, input: unknown): Promise<number> {
  const t = performance.now();
  const id = await host.startOrchestration(name, input);
  await host.waitForInstance(id);
  return performance.now() - t;
}
const cold = await timed('poller', 20);
const warm: number[] = [];
const base: number[] = [];
for (let i = 0; i < 5; i++) {
  warm.push(await timed('poller', 20));
  base.push(await timed('plan', []));
}
const longTimer = await timed('longTimer', 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
line(
  `40-minute virtual build, 20 polls: cold ${cold.toFixed(0)} ms, warm median ${median(warm).toFixed(0)} ms; empty orchestration (baseline) median ${median(base).toFixed(1)} ms (×${(median(warm) / median(base)).toFixed(1)})`,
);
line(`10-day durable timer in segments: ${longTimer.toFixed(0)} ms`);
emit('durableHost', {
  pollerColdMs: round(cold, 0),
  pollerWarmMs: round(median(warm), 0),
  emptyOrchestrationMs: round(median(base), 1),
  longTimer10DaysMs: round(longTimer, 0),
});
await host.stop();
process.exit(0);
