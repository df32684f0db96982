/**
 * Fleet: the monthly timer rebuilds N image definitions at once (default 200; `npm run bench -- --fleet 1000`
 * or FLEET_DEFINITIONS=1000 for the large run) through the app on the local Durable host, against the ARM emulator's subscription throttling
 * (token buckets as ARM documents them since 2024: reads 250 + 25/s, writes 200 + 10/s, deletes 200 + 10/s,
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
 * The buckets refill in real time while the build clock is virtual and stands still while work is
 * outstanding, so every burst meets ARM's real-time limits (stricter than Azure, where a burst also takes
 * ARM's own latency).
 *
 * The monthly timer spreads the builds' starts over FLEET_START_SPREAD_MINUTES (default 10), at most 16
 * at once (src/triggers/fleet-start-spread.ts): the makespan is at least the ideal plus that window.
 *
 * Baseline: one definition alone (its makespan is the ideal: the longest single build).
 * Figures: builds Succeeded / failed by 429 / failed otherwise, ARM reads/writes/deletes per build and in
 * total, 429 answers, makespan in simulated minutes vs the ideal, the largest number of activities running
 * at once (host.json maxConcurrentActivityFunctions must hold), Image Contributor grant present at every
 * distribution (a build whose grant was removed fails in Distributing) and left after the fleet.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setCredentialOverride } from '../src/azure/clients.js';
import { startLocalDurableHost } from '../src/local/durable-host/index.js';
import { startLocalAzure } from '../src/local/local-azure.js';
import { LocalTestCredential } from '../src/local/test-credential.js';
import { type BuildOutput, buildInstanceId } from '../src/orchestration/contracts.js';
import { emit, line, mean, ratio, round } from './lib/report.js';

const FLEET = Number(process.env.FLEET_DEFINITIONS ?? 200);
const NEVER = '0 0 0 1 7 *'; // 1 July: the fleet is over long before

interface FleetRun {
  definitions: number;
  succeeded: number;
  failedBy429: number;
  failedOther: number;
  failures: Record<string, number>;
  armReads: number;
  armWrites: number;
  armDeletes: number;
  throttled429: number;
  makespanMinutes: number;
  realSeconds: number;
  maxConcurrentActivities: number;
  activityConcurrencyLimit: number;
  grantsLeft: number;
  finished: number;
}

async function fleet(n: number): Promise<FleetRun> {
  const real0 = performance.now();
  const azure = await startLocalAzure();
  setCredentialOverride(new LocalTestCredential());
  const names = Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
  const env: Record<string, string> = {
    ...azure.appSettings,
    DURABLE_TASK_HUB_NAME: `fleet${n}`,
    IMAGE_DEFINITIONS: JSON.stringify(names.map((name) => ({ name }))),
    MONTHLY_REBUILD_SCHEDULE: NEVER, // fired by hand below
    BASE_IMAGE_CHECK_SCHEDULE: NEVER,
    JANITOR_SCHEDULE: NEVER,
    FLEET_START_SPREAD_MINUTES: process.env.FLEET_START_SPREAD_MINUTES ?? '10',
  };
  const host = await startLocalDurableHost({
    entryModules: [fileURLToPath(new URL('../src/functions/index.ts', import.meta.url))],
    clock: azure.clock,
    env,
  });
  // Count activities running at once by wrapping every activity handler.
  let running = 0;
  let maxRunning = 0;
  for (const fn of host.functions.values()) {
    if (fn.trigger !== 'activity') continue;
    const inner = fn.handler;
    (fn as { handler: typeof inner }).handler = (async (...args: Parameters<typeof inner>) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        return await inner(...args);
      } finally {
        running--;
      }
    }) as typeof inner;
  }
  const limit = Number(
    (
      JSON.parse(
        (await import('node:fs')).readFileSync(new URL('../host.json', import.meta.url), 'utf8'),
      ) as { extensions: { durableTask: { maxConcurrentActivityFunctions: number } } }
    ).extensions.durableTask.maxConcurrentActivityFunctions,
  );

  const start = azure.clock.now();
  await host.fireTimerTrigger('monthlyRebuild');
  const ids = names.map(buildInstanceId);
  const outputs = new Map<
    string,
    BuildOutput | { result: string; error?: { code: string; message: string } }
  >();
  let lastEnd = start;
  for (let step = 0; step < 24 * 60 && outputs.size < n; step++) {
    await host.settle();
    for (const id of ids) {
      if (outputs.has(id)) continue;
      const s = await host.getStatus(id);
      if (!s || !['Completed', 'Failed', 'Terminated', 'Canceled'].includes(s.runtimeStatus)) continue;
      outputs.set(
        id,
        s.runtimeStatus === 'Completed'
          ? (s.output as BuildOutput)
          : { result: s.runtimeStatus, error: { code: `Orchestration${s.runtimeStatus}`, message: '' } },
      );
      lastEnd = azure.clock.now();
    }
    if (process.env.FLEET_PROGRESS)
      process.stderr.write(
        `fleet ${n}: ${round((azure.clock.now() - start) / 60_000)} simulated min, ${outputs.size} finished, ${azure.emulator.state.requests().length} ARM requests, real ${round((performance.now() - real0) / 1000)} s\n`,
      );
    if (outputs.size < n) azure.clock.advanceBy(60_000);
  }
  const requests = azure.emulator.state.requests();
  const kind = (m: string) => (m === 'GET' || m === 'HEAD' ? 'r' : m === 'DELETE' ? 'd' : 'w');
  const failures: Record<string, number> = {};
  let succeeded = 0;
  let failedBy429 = 0;
  for (const o of outputs.values()) {
    if (o.result === 'Succeeded') {
      succeeded++;
      continue;
    }
    const code = o.error?.code ?? o.result;
    failures[code] = (failures[code] ?? 0) + 1;
    if (/429|Throttl/i.test(`${code} ${o.error?.message ?? ''}`)) failedBy429++;
  }
  const scope = `/subscriptions/${azure.emulator.subscriptionId}/resourceGroups/${env.IMAGE_DESTINATION_RESOURCE_GROUP}`;
  const role = env.IMAGE_CONTRIBUTOR_ROLE_ID!.split('/').at(-1)!.toLowerCase();
  const grantsLeft = azure.emulator.state
    .roleAssignments()
    .filter(
      (a) => a.scope.toLowerCase() === scope.toLowerCase() && a.roleDefinitionId.toLowerCase().endsWith(role),
    ).length;
  const result: FleetRun = {
    definitions: n,
    succeeded,
    failedBy429,
    failedOther: outputs.size - succeeded - failedBy429,
    failures,
    armReads: requests.filter((r) => kind(r.request.method) === 'r').length,
    armWrites: requests.filter((r) => kind(r.request.method) === 'w').length,
    armDeletes: requests.filter((r) => kind(r.request.method) === 'd').length,
    throttled429: requests.filter((r) => r.response.statusCode === 429).length,
    makespanMinutes: round((lastEnd - start) / 60_000),
    realSeconds: 0,
    maxConcurrentActivities: maxRunning,
    activityConcurrencyLimit: limit,
    grantsLeft,
    finished: outputs.size,
  };
  await host.stop();
  await azure.stop();
  setCredentialOverride(undefined);
  result.realSeconds = round((performance.now() - real0) / 1000);
  return result;
}

function describe(label: string, r: FleetRun): void {
  line(
    `${label.padEnd(10)} ${r.definitions} definitions: ${r.succeeded} Succeeded, ${r.failedBy429} failed by 429, ${r.failedOther} failed otherwise${Object.keys(r.failures).length ? ` ${JSON.stringify(r.failures)}` : ''}${r.finished < r.definitions ? `, ${r.definitions - r.finished} unfinished` : ''}`,
  );
  line(
    `           ARM reads ${r.armReads} (${round(r.armReads / r.definitions)}/build), writes ${r.armWrites} (${round(r.armWrites / r.definitions)}/build), deletes ${r.armDeletes} (${round(r.armDeletes / r.definitions)}/build); 429 answers ${r.throttled429}`,
  );
  line(
    `           makespan ${r.makespanMinutes} simulated min; real ${r.realSeconds} s; activities at once max ${r.maxConcurrentActivities} (limit ${r.activityConcurrencyLimit}); Image Contributor assignments left ${r.grantsLeft}`,
  );
}

/** Each fleet in a process of its own (the app's config and clients are per process). */
function inChild(n: number): FleetRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    encoding: 'utf8',
    env: { ...process.env, FLEET_CHILD: String(n) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = r.stdout.split('\n').find((l) => l.startsWith('@@fleet '));
  if (!out)
    throw new Error(`fleet of ${n} ended without a result (exit ${r.status}): ${r.stdout.slice(-2000)}`);
  return JSON.parse(out.slice('@@fleet '.length)) as FleetRun;
}

if (process.env.FLEET_CHILD) {
  process.stdout.write(`@@fleet ${JSON.stringify(await fleet(Number(process.env.FLEET_CHILD)))}\n`);
  process.exit(0);
}
const solo = inChild(1);
describe('baseline', solo);
const many = inChild(FLEET);
describe('fleet', many);
line(
  `fleet vs baseline: makespan ${ratio(many.makespanMinutes, solo.makespanMinutes)} (ideal ${solo.makespanMinutes} min), ARM requests/build ${ratio((many.armReads + many.armWrites + many.armDeletes) / many.definitions, solo.armReads + solo.armWrites + solo.armDeletes)}`,
);
emit(FLEET === 200 ? 'fleet' : `fleet${FLEET}`, {
  definitions: many.definitions,
  succeeded: many.succeeded,
  failedBy429: many.failedBy429,
  failedOther: many.failedOther,
  failures: many.failures,
  armReads: many.armReads,
  armWrites: many.armWrites,
  armDeletes: many.armDeletes,
  armReadsPerBuild: round(many.armReads / many.definitions),
  armWritesPerBuild: round((many.armWrites + many.armDeletes) / many.definitions),
  throttled429: many.throttled429,
  makespanMinutes: many.makespanMinutes,
  idealMinutes: solo.makespanMinutes,
  maxConcurrentActivities: many.maxConcurrentActivities,
  activityConcurrencyLimit: many.activityConcurrencyLimit,
  imageContributorAssignmentsLeft: many.grantsLeft,
  startSpreadMinutes: Number(process.env.FLEET_START_SPREAD_MINUTES ?? 10),
  realSeconds: many.realSeconds,
  baseline: { ...solo, failures: undefined },
  meanArmPerBuildSolo: mean([solo.armReads + solo.armWrites + solo.armDeletes]),
});
process.exit(0);
