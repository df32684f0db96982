/**
 * The build orchestration through the local Durable host vs a baseline: the same activities called in a
 * plain async sequence (no host, no history, no replay), on the same ARM emulator, Azurite and virtual
 * clock. Both run N successful default builds (about 41 simulated minutes each).
 *
 * Figures per build: real milliseconds, ARM requests, polls; for the host also history events of the build
 * instance and of its polling sub-orchestration (src/local/history-meter.ts): kept (the rows Azure Storage
 * keeps: continue-as-new overwrites an instance's rows) and written (every event, all executions). The ratio host/baseline is the cost of durability
 * (history, replay, episodes) on top of the Azure calls themselves.
 */
import { fileURLToPath } from 'node:url';
import { resolveBuilderIdentity } from '../src/activities/builder-identity.js';
import { type ActivityDeps, recordsOf } from '../src/activities/deps.js';
import { archiveBuildLogs } from '../src/activities/logs/archive-build-logs.js';
import { pollingPlan } from '../src/activities/polling-plan.js';
import { preflightActivity } from '../src/activities/preflight/run-preflight.js';
import { grantImageContributor, revokeImageContributor } from '../src/activities/roles/image-contributor.js';
import { ensurePersistentRoles } from '../src/activities/roles/persistent-roles.js';
import { getRunStatus, isTerminalRunState, startRun } from '../src/activities/run/image-run.js';
import { resolveSourceVersion } from '../src/activities/source-version.js';
import { deployTemplate } from '../src/activities/template/deploy-template.js';
import { createAzureClients, setCredentialOverride } from '../src/azure/clients.js';
import { parseConfig } from '../src/config.js';
import { startLocalDurableHost } from '../src/local/durable-host/index.js';
import { createHistoryMeter } from '../src/local/history-meter.js';
import { startLocalAzure } from '../src/local/local-azure.js';
import { LocalTestCredential } from '../src/local/test-credential.js';
import { BUILD_ORCHESTRATOR, type BuildOutput, buildInstanceId } from '../src/orchestration/contracts.js';
import { nextPollDelaySeconds } from '../src/orchestration/polling-schedule.js';
import { emit } from './lib/report.js';

const N = Number(process.env.BENCH_BUILDS ?? 2);
const DEF = 'aks-jumpbox';

const azure = await startLocalAzure();
setCredentialOverride(new LocalTestCredential());
// Only the measured builds: the monthly and base-image timers would start builds of their own, and the
// janitor would (rightly) remove the baseline's grant, since no orchestration runs during a baseline build.
const env = {
  ...azure.appSettings,
  DURABLE_TASK_HUB_NAME: 'bench',
  MONTHLY_REBUILD_SCHEDULE: '0 0 0 1 1 *',
  BASE_IMAGE_CHECK_SCHEDULE: '0 0 0 1 1 *',
  JANITOR_SCHEDULE: '0 0 0 1 1 *',
};
const clients = createAzureClients({
  subscriptionId: azure.emulator.subscriptionId,
  armEndpoint: azure.emulator.armEndpoint,
  caCert: { pem: azure.certificate.cert },
  credential: new LocalTestCredential(),
});
const meter = createHistoryMeter();
const host = await startLocalDurableHost({
  entryModules: [fileURLToPath(new URL('../src/functions/index.ts', import.meta.url))],
  clock: azure.clock,
  env,
  onEpisode: meter.onEpisode,
});
const deps: ActivityDeps = {
  config: parseConfig(env),
  clients,
  log: () => {},
  sleep: async () => {},
  lroPollIntervalMs: 1000,
};

async function reset(): Promise<void> {
  azure.emulator.control.reset();
}

/** Baseline: the steps in a plain loop, polling on the same schedule by moving the clock directly. */
async function baselineBuild(i: number): Promise<{ polls: number; result: string }> {
  const buildId = `baseline-${i}`;
  await preflightActivity(deps, { definition: DEF });
  const identity = await resolveBuilderIdentity(deps);
  await ensurePersistentRoles(deps, { definition: DEF, principalId: identity.principalId });
  const source = await resolveSourceVersion(deps, { definition: DEF });
  const t = await deployTemplate(deps, {
    definition: DEF,
    buildId,
    sourceVersion: source.version,
    builderIdentityId: identity.id,
  });
  await grantImageContributor(deps, { principalId: identity.principalId });
  const plan = await pollingPlan(deps, { definition: DEF, buildId });
  await startRun(deps, { templateName: t.templateName });
  const start = azure.clock.now();
  let polls = 0;
  let sub: string | undefined;
  let state: string | undefined;
  for (let first = true; ; first = false) {
    const elapsed = Math.floor((azure.clock.now() - start) / 1000);
    const delay = nextPollDelaySeconds(plan, { elapsedSeconds: elapsed, runSubState: sub, firstPoll: first });
    if (delay === 0) break;
    azure.clock.advanceBy(delay * 1000);
    const s = await getRunStatus(deps, { templateName: t.templateName });
    polls++;
    sub = s.runSubState;
    state = s.runState;
    if (isTerminalRunState(state)) break;
  }
  await archiveBuildLogs(deps, {
    definition: DEF,
    buildId,
    templateName: t.templateName,
    runState: state ?? '',
  });
  await revokeImageContributor(deps, { principalId: identity.principalId });
  return { polls, result: state ?? 'unknown' };
}

async function hostBuild(
  i: number,
): Promise<{ polls: number; result: string; history: number; parentHistory: number; written: number }> {
  const buildId = `host-${i}`;
  const id = buildInstanceId(DEF);
  meter.reset();
  await host.startOrchestration(
    BUILD_ORCHESTRATOR,
    {
      buildId,
      definition: DEF,
      trigger: 'simulation',
      reason: 'bench',
      requestedBy: 'bench',
      force: true,
      requestedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    },
    id,
  );
  const s = await host.waitForInstance(id, { timeoutMs: 120_000 });
  const out = s.output as BuildOutput;
  const tree = meter.tree(id);
  const record = await recordsOf(deps).get(buildId);
  return {
    polls: record?.polls ?? 0,
    result: out.result,
    history: tree.reduce((n, x) => n + x.kept, 0),
    parentHistory: meter.instance(id)?.kept ?? 0,
    written: tree.reduce((n, x) => n + x.written, 0),
  };
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${mean.toFixed(0)} ms, median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)}, max ${s.at(-1)!.toFixed(0)}`;
}

const rows: Record<
  string,
  {
    ms: number[];
    arm: number[];
    polls: number[];
    history: number[];
    parent: number[];
    written: number[];
    results: string[];
  }
> = {
  baseline: { ms: [], arm: [], polls: [], history: [], parent: [], written: [], results: [] },
  host: { ms: [], arm: [], polls: [], history: [], parent: [], written: [], results: [] },
};
const simulatedMinutes: number[] = [];
// Warm-up (module loading, TLS, token caches) not measured.
await reset();
await baselineBuild(-1);
await reset();
await hostBuild(-1);
for (let i = 0; i < N; i++) {
  for (const kind of ['baseline', 'host'] as const) {
    await reset();
    const t = performance.now();
    const v0 = azure.clock.now();
    const r: { polls: number; result: string; history?: number; parentHistory?: number; written?: number } =
      kind === 'baseline' ? await baselineBuild(i) : await hostBuild(i);
    if (kind === 'host') simulatedMinutes.push((azure.clock.now() - v0) / 60_000);
    rows[kind]!.ms.push(performance.now() - t);
    rows[kind]!.arm.push(azure.emulator.state.requests().length);
    rows[kind]!.polls.push(r.polls);
    rows[kind]!.results.push(r.result);
    if (r.history !== undefined && r.parentHistory !== undefined) {
      rows[kind]!.history.push(r.history);
      rows[kind]!.parent.push(r.parentHistory);
      rows[kind]!.written.push(r.written ?? 0);
    }
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
for (const [kind, r] of Object.entries(rows)) {
  process.stdout.write(
    `${kind.padEnd(9)} ${N} builds (${[...new Set(r.results)].join('/')}): ${stats(r.ms)}; ARM requests/build ${mean(r.arm).toFixed(1)}; polls/build ${mean(r.polls).toFixed(1)}${r.history.length ? `; history events/build ${mean(r.history).toFixed(0)}` : ''}\n`,
  );
}
process.stdout.write(
  `host / baseline real time: ${(mean(rows.host!.ms) / mean(rows.baseline!.ms)).toFixed(2)}x; extra ARM requests/build on the host: ${(mean(rows.host!.arm) - mean(rows.baseline!.arm)).toFixed(1)} (the build-id tag the host run adds to the image)\n`,
);
const h = rows.host!;
process.stdout.write(
  `history events per build (kept): ${mean(h.history).toFixed(0)} in total, ${mean(h.parent).toFixed(0)} in the parent orchestration (${mean(h.written).toFixed(0)} written over all executions), over ${mean(simulatedMinutes).toFixed(1)} simulated minutes (goal ≤ 150 and ≤ 60)\n`,
);
emit('historyEvents', {
  total: Math.round(mean(h.history)),
  parent: Math.round(mean(h.parent)),
  written: Math.round(mean(h.written)),
  pollingSubOrchestrations: Math.round(mean(h.history) - mean(h.parent)),
  pollsPerBuild: mean(h.polls),
  simulatedMinutesPerBuild: Math.round(mean(simulatedMinutes) * 10) / 10,
});
emit('orchestration', {
  builds: N,
  hostMsPerBuild: Math.round(mean(h.ms)),
  baselineMsPerBuild: Math.round(mean(rows.baseline!.ms)),
  armRequestsPerBuild: mean(h.arm),
  baselineArmRequestsPerBuild: mean(rows.baseline!.arm),
});
await host.stop();
await azure.stop();
process.exit(0);
