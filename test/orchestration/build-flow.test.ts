/**
 * The build flow's logic on a deterministic fake driver: durable retries (transient only, with backoff),
 * the finally-revoke on every path, deadline -> cancel -> TimedOut, cancel by event, bounded polling
 * episodes. The end-to-end suites run the same flow on the local Durable host.
 */
import { describe, expect, it } from 'vitest';
import type { ClassifiedFailure } from '../../src/azure/errors.js';
import { buildFlow } from '../../src/orchestration/build-flow.js';
import { type BuildInput, type BuildOutput, NOTIFY_ACTIVITY } from '../../src/orchestration/contracts.js';
import { POLLS_PER_EXECUTION, pollRunFlow } from '../../src/orchestration/poll-run.js';
import { ACTIVITY, POLL_RUN_ORCHESTRATOR } from '../../src/orchestration/steps.js';
import { runFlow } from './fake-durable.js';

const input: BuildInput = {
  buildId: 'b1',
  definition: 'aks-jumpbox',
  trigger: 'http',
  reason: 'test',
  requestedBy: 'me',
  force: true,
  requestedAt: '2026-01-01T00:00:00.000Z',
};

const MIN = 60_000;

interface World {
  /** Run duration in minutes until Succeeded; undefined = never ends by itself. */
  runMinutes?: number | undefined;
  /** Failures returned by an activity, in order, before it succeeds. */
  failures?: Partial<Record<string, ClassifiedFailure[]>>;
  /** An activity that throws past its outcome wrapper (host-level failure). */
  throwIn?: string;
  cancelMinutes?: number;
  /** The run fails in Customizing after this many minutes. */
  failCustomizingMinutes?: number;
  /** What the supply-chain step returns. */
  supplyChain?: unknown;
}

function world(w: World) {
  let runStart: number | undefined;
  let cancelAt: number | undefined;
  const attempts: Record<string, number> = {};
  const handler = (name: string, _input: unknown, now: number): unknown => {
    attempts[name] = (attempts[name] ?? 0) + 1;
    const queued = w.failures?.[name];
    if (queued && queued.length > 0) return { ok: false, failure: queued.shift() };
    if (w.throwIn === name) throw new Error(`${name} crashed`);
    const ok = (value: unknown) => ({ ok: true, value });
    switch (name) {
      case ACTIVITY.prepare:
        return ok({
          identity: { id: '/id', principalId: 'p1', clientId: 'c1', created: false },
          sourceVersion: '1.2.3',
          plan: {
            minIntervalSeconds: 30,
            maxIntervalSeconds: 300,
            expectedSeconds: 35 * 60,
            deadlineSeconds: 105 * 60,
            logLocation: 'https://a/c/aks-jumpbox/b1/',
            grantPropagationTimeoutSeconds: 30 * 60,
          },
        });
      case ACTIVITY.deployTemplate:
        return ok({
          templateName: 'aks-jumpbox-abc',
          action: 'create',
          superseded: [],
          archivedLogs: [],
          deleted: [],
          reason: 'new',
          stagingResourceGroupId: '/rg',
        });
      case ACTIVITY.startRun:
        runStart = now;
        return ok({ templateName: 'aks-jumpbox-abc', startedAt: new Date(now).toISOString() });
      case ACTIVITY.cancelRun:
        cancelAt ??= now;
        return ok({ requested: true });
      case ACTIVITY.runStatus: {
        const t = now - runStart!;
        if (cancelAt !== undefined) {
          return ok({
            runState: now - cancelAt >= 2 * MIN ? 'Canceled' : 'Canceling',
            runSubState: 'Customizing',
            artifactIds: [],
          });
        }
        if (w.failCustomizingMinutes !== undefined && t >= w.failCustomizingMinutes * MIN) {
          return ok({
            runState: 'Failed',
            runSubState: 'Customizing',
            message: 'Failed while waiting for packerizer: Packer build command has failed: exit status 1.',
            artifactIds: [],
          });
        }
        if (w.runMinutes !== undefined && t >= w.runMinutes * MIN) {
          return ok({ runState: 'Succeeded', runSubState: 'Distributing', artifactIds: ['/images/img'] });
        }
        const sub = t < 5 * MIN ? 'Building' : t < 25 * MIN ? 'Customizing' : 'Distributing';
        return ok({ runState: 'Running', runSubState: sub, artifactIds: [] });
      }
      case ACTIVITY.archiveLogs:
        return ok({ logs: ['https://a/c/aks-jumpbox/b1/customization.log'], runGuids: ['g'] });
      case ACTIVITY.collectSupplyChain:
        return ok(w.supplyChain ?? { problems: [] });
      case ACTIVITY.grantImageContributor:
        return ok({ scopes: ['/rg'], assignments: [] });
      case ACTIVITY.revokeImageContributor:
        return ok({ removed: ['/ra'], keptFor: [] });
      default:
        return ok({});
    }
  };
  return { handler, attempts };
}

function drive(w: World, raise?: { name: string; atMs: number }) {
  const { handler, attempts } = world(w);
  const startMs = Date.UTC(2026, 0, 1);
  const r = runFlow(buildFlow, input, {
    activity: handler,
    subFlows: { [POLL_RUN_ORCHESTRATOR]: pollRunFlow },
    raise: raise ? { ...raise, atMs: startMs + raise.atMs } : undefined,
    startMs,
  });
  const names = r.log.activities.map((a) => a.name);
  return { ...r, output: r.output as BuildOutput, names, attempts };
}

describe('build flow on a fake driver', () => {
  it('success: the steps in order, revoke after archive, image id and durations', () => {
    const r = drive({ runMinutes: 40 });
    expect(r.output).toMatchObject({
      result: 'Succeeded',
      imageId: '/images/img',
      sourceImageVersion: '1.2.3',
    });
    const order = [
      ACTIVITY.prepare,
      ACTIVITY.grantImageContributor,
      ACTIVITY.deployTemplate,
      ACTIVITY.startRun,
      ACTIVITY.archiveLogs,
      ACTIVITY.revokeImageContributor,
      ACTIVITY.promoteImage,
    ];
    const firstIndex = order.map((n) => r.names.indexOf(n));
    expect(firstIndex.every((i) => i >= 0)).toBe(true);
    expect([...firstIndex].sort((a, b) => a - b)).toEqual(firstIndex);
    expect(r.output.durations.run).toBeGreaterThanOrEqual(40 * 60);
    // One polling sub-orchestration for the run, continuing as new every POLLS_PER_EXECUTION polls.
    expect(r.log.subOrchestrations).toHaveLength(1);
    expect(r.log.maxPollsPerSub).toBeLessThanOrEqual(POLLS_PER_EXECUTION);
    expect(r.log.continuedAsNew).toBeGreaterThan(0);
    expect(r.output.durations.preflight).toBeGreaterThanOrEqual(0);
  });

  it('phases are recorded by the steps that start them; one record step, the final one', () => {
    const r = drive({ runMinutes: 40 });
    expect(r.names.filter((n) => n === ACTIVITY.recordBuild)).toHaveLength(1);
    const phaseOf = (name: string) =>
      (r.log.activities.find((a) => a.name === name)!.input as { record?: { patch: { phase?: string } } })
        .record?.patch.phase;
    expect(phaseOf(ACTIVITY.prepare)).toBe('preflight');
    expect(phaseOf(ACTIVITY.grantImageContributor)).toBe('grant');
    expect(phaseOf(ACTIVITY.deployTemplate)).toBe('template');
    expect(phaseOf(ACTIVITY.startRun)).toBe('run');
    expect(phaseOf(ACTIVITY.archiveLogs)).toBe('archiving');
    expect(phaseOf(ACTIVITY.revokeImageContributor)).toBe('revoking');
    // The polling phase goes with the first status read; every read may record a changed sub-state.
    const reads = r.log.activities
      .filter((a) => a.name === ACTIVITY.runStatus)
      .map(
        (a) => a.input as { ref?: { buildId: string }; patch?: { phase?: string }; lastSubState?: string },
      );
    expect(reads[0]!.patch?.phase).toBe('polling');
    expect(reads.slice(1).every((x) => x.patch === undefined && x.ref?.buildId === 'b1')).toBe(true);
    // Across continue-as-new the poller still knows the last sub-state (it records changes only).
    expect(reads.at(-1)!.lastSubState).toBe('Distributing');
  });

  it('transient failures are retried after durable timers with growing backoff; the build succeeds', () => {
    const t: ClassifiedFailure = { kind: 'transient', code: 'Http503', message: 'busy' };
    const r = drive({
      runMinutes: 40,
      failures: { [ACTIVITY.deployTemplate]: [t, t, { ...t, retryAfterMs: 100_000 }] },
    });
    expect(r.output.result).toBe('Succeeded');
    expect(r.attempts[ACTIVITY.deployTemplate]).toBe(4);
    const at = r.log.activities.filter((a) => a.name === ACTIVITY.deployTemplate).map((a) => a.at);
    expect(at.slice(1).map((x, i) => (x - at[i]!) / 1000)).toEqual([15, 30, 100]);
  });

  it('a permanent failure is not retried; nothing after it runs (no grant, no revoke needed)', () => {
    const r = drive({
      runMinutes: 40,
      failures: {
        [ACTIVITY.prepare]: [{ kind: 'permanent', code: 'PreflightFailed', message: 'subnet /29' }],
      },
    });
    expect(r.output).toMatchObject({
      result: 'Failed',
      error: { code: 'PreflightFailed', message: 'subnet /29' },
    });
    expect(r.attempts[ACTIVITY.prepare]).toBe(1);
    expect(r.names).not.toContain(ACTIVITY.grantImageContributor);
    expect(r.names).not.toContain(ACTIVITY.startRun);
  });

  it('transient failures beyond the attempt limit fail the build, and the grant is still revoked', () => {
    const t: ClassifiedFailure = { kind: 'transient', code: 'Http429', message: 'throttled' };
    const r = drive({ runMinutes: 40, failures: { [ACTIVITY.startRun]: [t, t, t, t, t] } });
    expect(r.output).toMatchObject({ result: 'Failed', error: { code: 'Http429' } });
    expect(r.attempts[ACTIVITY.startRun]).toBe(5);
    expect(r.names.at(-1)).not.toBe(ACTIVITY.grantImageContributor);
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
    expect(r.names).not.toContain(ACTIVITY.archiveLogs);
  });

  it('an unexpected (host-level) error after the grant still revokes it', () => {
    const r = drive({ runMinutes: 40, throwIn: ACTIVITY.deployTemplate });
    expect(r.output).toMatchObject({ result: 'Failed', error: { code: 'ActivityFailed' } });
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
  });

  it('deadline: a run that never ends is cancelled at buildTimeout + margin, TimedOut, logs archived, revoked', () => {
    const r = drive({ runMinutes: undefined });
    expect(r.output).toMatchObject({ result: 'TimedOut', error: { code: 'BuildTimedOut' } });
    const cancel = r.log.activities.find((a) => a.name === ACTIVITY.cancelRun)!;
    const start = r.log.activities.find((a) => a.name === ACTIVITY.startRun)!;
    expect((cancel.at - start.at) / MIN).toBe(105);
    expect(r.names.filter((n) => n === ACTIVITY.cancelRun)).toHaveLength(1);
    expect(r.names).toContain(ACTIVITY.archiveLogs);
    expect(r.names.slice(-2)).toEqual([ACTIVITY.recordBuild, NOTIFY_ACTIVITY]);
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
    // History stays bounded: the run's poller and one more for the cancellation's grace period, each
    // execution at most POLLS_PER_EXECUTION polls.
    expect(r.log.maxPollsPerSub).toBeLessThanOrEqual(POLLS_PER_EXECUTION);
    expect(r.log.subOrchestrations).toHaveLength(2);
  });

  it('cancel event during polling: the run is cancelled once, Canceled, logs archived, revoked', () => {
    const r = drive({ runMinutes: 40 }, { name: 'cancel', atMs: 12 * MIN });
    expect(r.output).toMatchObject({ result: 'Canceled', error: { code: 'CanceledByRequest' } });
    const cancel = r.log.activities.find((a) => a.name === ACTIVITY.cancelRun)!;
    expect(cancel.at - Date.UTC(2026, 0, 1)).toBe(12 * MIN);
    expect(r.names.filter((n) => n === ACTIVITY.cancelRun)).toHaveLength(1);
    expect(r.names).toContain(ACTIVITY.archiveLogs);
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
  });

  it('a cancel shortly before the deadline extends it by the grace period: the run still ends Canceled', () => {
    const r = drive({ runMinutes: undefined }, { name: 'cancel', atMs: 100 * MIN });
    expect(r.output).toMatchObject({ result: 'Canceled', error: { code: 'CanceledByRequest' } });
    expect(r.names.filter((n) => n === ACTIVITY.cancelRun)).toHaveLength(1);
  });

  it('custom status: phase, elapsed, next poll time, template, log location', () => {
    const r = drive({ runMinutes: 40 });
    const statuses = r.log.statuses as {
      phase?: string;
      nextPollAt?: string;
      runSubState?: string;
      templateName?: string;
      logLocation?: string;
      elapsedSeconds?: number;
    }[];
    const polling = statuses.filter((s) => s.phase === 'polling');
    expect(polling.some((s) => s.nextPollAt !== undefined && s.templateName === 'aks-jumpbox-abc')).toBe(
      true,
    );
    expect(polling.some((s) => s.logLocation === 'https://a/c/aks-jumpbox/b1/')).toBe(true);
    const first = polling.find((s) => s.nextPollAt)!;
    expect(Date.parse(first.nextPollAt!) - Date.UTC(2026, 0, 1)).toBe(Math.ceil(35 * 60 * 0.3) * 1000);
    expect(statuses.at(-1)).toMatchObject({ phase: 'done' });
    expect(statuses.at(-1)!.elapsedSeconds).toBeGreaterThanOrEqual(40 * 60);
  });

  it('polls follow the adaptive schedule: the first after 30% of the expected duration, none closer than 30 s', () => {
    const r = drive({ runMinutes: 40 });
    const start = r.log.activities.find((a) => a.name === ACTIVITY.startRun)!.at;
    const polls = r.log.activities
      .filter((a) => a.name === ACTIVITY.runStatus)
      .map((a) => (a.at - start) / 1000);
    expect(polls[0]).toBe(Math.ceil(35 * 60 * 0.3));
    const gaps = polls.slice(1).map((p, i) => p - polls[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(300);
  });
});

describe('just-in-time grant that survives role-assignment propagation', () => {
  const refused: ClassifiedFailure = {
    kind: 'permanent',
    code: 'GrantNotEffective',
    message:
      'Not authorized to access the resource /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/x. Please check the user assigned identity has the correct permissions.',
  };
  const statusesOf = (r: ReturnType<typeof drive>) =>
    r.log.statuses as { phase?: string; grantWaitSeconds?: number; grantPropagationSeconds?: number }[];
  const finalRecord = (r: ReturnType<typeof drive>) =>
    (
      r.log.activities.filter((a) => a.name === ACTIVITY.recordBuild).at(-1)!.input as {
        patch: Record<string, unknown>;
      }
    ).patch;

  it.each([3, 6])(
    'refused %i times: waits on durable timers in phase waiting-for-grant, then succeeds',
    (n) => {
      const r = drive({ runMinutes: 40, failures: { [ACTIVITY.startRun]: Array(n).fill(refused) } });
      expect(r.output.result).toBe('Succeeded');
      expect(r.attempts[ACTIVITY.startRun]).toBe(n + 1);
      const grantAt = r.log.activities.find((a) => a.name === ACTIVITY.grantImageContributor)!.at;
      const starts = r.log.activities
        .filter((a) => a.name === ACTIVITY.startRun)
        .map((a) => (a.at - grantAt) / 1000);
      // Backoff 30, 60, 120, 240, 240… seconds between attempts.
      const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
      expect(gaps).toEqual([30, 60, 120, 240, 240, 240].slice(0, n));
      const waiting = statusesOf(r).filter((s) => s.phase === 'waiting-for-grant');
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting.some((s) => (s.grantWaitSeconds ?? 0) > 0)).toBe(true);
      expect(r.output.grant).toMatchObject({ refusals: n, propagationSeconds: starts.at(-1) });
      expect(finalRecord(r)).toMatchObject({ grantRefusals: n, grantPropagationSeconds: starts.at(-1) });
      expect((finalRecord(r).grantSeconds as number) >= 40 * 60).toBe(true);
      expect(r.names.filter((x) => x === ACTIVITY.revokeImageContributor)).toHaveLength(1);
    },
  );

  it('never effective within GRANT_PROPAGATION_TIMEOUT_MINUTES: Failed naming propagation, grant revoked, no run', () => {
    const r = drive({ runMinutes: 40, failures: { [ACTIVITY.startRun]: Array(50).fill(refused) } });
    expect(r.output.result).toBe('Failed');
    expect(r.output.error?.code).toBe('GrantPropagationTimeout');
    expect(r.output.error?.message).toMatch(/propagation/);
    expect(r.output.error?.message).toMatch(/GRANT_PROPAGATION_TIMEOUT_MINUTES/);
    const grantAt = r.log.activities.find((a) => a.name === ACTIVITY.grantImageContributor)!.at;
    const last = r.log.activities.filter((a) => a.name === ACTIVITY.startRun).at(-1)!.at;
    expect((last - grantAt) / 1000).toBe(30 * 60); // the last attempt lands on the bound
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
    expect(r.names).not.toContain(ACTIVITY.runStatus);
    expect(r.names).not.toContain(ACTIVITY.archiveLogs);
  });

  it('a template creation refused for rights is waited for the same way', () => {
    const r = drive({ runMinutes: 40, failures: { [ACTIVITY.deployTemplate]: [refused, refused] } });
    expect(r.output.result).toBe('Succeeded');
    expect(r.attempts[ACTIVITY.deployTemplate]).toBe(3);
    expect(r.output.grant?.refusals).toBe(2);
  });

  it('a cancel request while waiting for the grant ends the build Canceled and removes the grant', () => {
    const r = drive(
      { runMinutes: 40, failures: { [ACTIVITY.startRun]: Array(50).fill(refused) } },
      { name: 'cancel', atMs: 3 * MIN },
    );
    expect(r.output).toMatchObject({ result: 'Canceled', error: { code: 'CanceledByRequest' } });
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
    expect(r.names).not.toContain(ACTIVITY.cancelRun);
  });

  it('other permanent failures of the run are not retried', () => {
    const r = drive({
      runMinutes: 40,
      failures: { [ACTIVITY.startRun]: [{ kind: 'permanent', code: 'InvalidTemplateState', message: 'x' }] },
    });
    expect(r.output.error?.code).toBe('InvalidTemplateState');
    expect(r.attempts[ACTIVITY.startRun]).toBe(1);
  });
});

describe('partial output after a cancelled or failed run', () => {
  it('a cancel (e.g. during Distributing) removes the partial output before archiving and revoking', () => {
    const r = drive({ runMinutes: 40 }, { name: 'cancel', atMs: 30 * MIN });
    expect(r.output.result).toBe('Canceled');
    const i = (n: string) => r.names.indexOf(n);
    expect(i(ACTIVITY.cleanupPartialImages)).toBeGreaterThan(i(ACTIVITY.cancelRun));
    expect(i(ACTIVITY.cleanupPartialImages)).toBeLessThan(i(ACTIVITY.archiveLogs));
    expect(i(ACTIVITY.archiveLogs)).toBeLessThan(i(ACTIVITY.revokeImageContributor));
    expect(r.names).not.toContain(ACTIVITY.promoteImage);
  });

  it('supply chain: collected after archival and before revoke; links in the output; promote gets the provenance', () => {
    const vulnerabilities = {
      critical: 0,
      high: 0,
      medium: 0,
      low: 3,
      unknown: 0,
      blocking: [],
      report: 'https://a/r',
    };
    const supplyChain = {
      sbom: 'https://a/s',
      sbomSha256: 'a'.repeat(64),
      provenance: 'https://a/p',
      provenanceSha256: 'f'.repeat(64),
      vulnerabilities,
      vulnerabilitiesSha256: 'c'.repeat(64),
    };
    const r = drive({ runMinutes: 40, supplyChain: { ...supplyChain, problems: [] } });
    const at = (n: string) => r.names.indexOf(n);
    expect(at(ACTIVITY.archiveLogs)).toBeLessThan(at(ACTIVITY.collectSupplyChain));
    expect(at(ACTIVITY.collectSupplyChain)).toBeLessThan(at(ACTIVITY.revokeImageContributor));
    // Links and the SHA-256 of each archived blob, in the output and in the final record.
    expect(r.output).toMatchObject(supplyChain);
    const records = r.log.activities.filter((a) => a.name === ACTIVITY.recordBuild);
    const last = records.at(-1);
    expect(last).toBeDefined();
    expect((last!.input as { patch: unknown }).patch).toMatchObject({
      status: 'Succeeded',
      ...supplyChain,
    });
    const promote = r.log.activities.find((a) => a.name === ACTIVITY.promoteImage);
    expect(promote?.input).toMatchObject({
      provenance: 'https://a/p',
      provenanceSha256: 'f'.repeat(64),
      artifactIds: ['/images/img'],
    });
  });

  it('a gate failure named by the supply-chain step replaces RunFailed; the grant is still revoked', () => {
    const failure = { code: 'VulnerabilityGateFailed', message: 'CVE-2024-6387 (HIGH) in openssh-server …' };
    const r = drive({ failCustomizingMinutes: 20, supplyChain: { failure, problems: [] } });
    expect(r.output.result).toBe('Failed');
    expect(r.output.error).toEqual(failure);
    expect(r.names).toContain(ACTIVITY.revokeImageContributor);
    expect(r.names).not.toContain(ACTIVITY.promoteImage);
    // Without a gate failure the run's own failure stands.
    expect(drive({ failCustomizingMinutes: 20 }).output.error?.code).toBe('RunFailed');
  });

  it('a successful run is not cleaned up, and the image is promoted after the grant is gone', () => {
    const r = drive({ runMinutes: 40 });
    expect(r.names).not.toContain(ACTIVITY.cleanupPartialImages);
    expect(r.names.indexOf(ACTIVITY.promoteImage)).toBeGreaterThan(
      r.names.indexOf(ACTIVITY.revokeImageContributor),
    );
  });
});
