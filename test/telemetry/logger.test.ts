/** The leveled structured logger (src/telemetry/logger.ts) and the build flow's explicit levels. */
import { describe, expect, it } from 'vitest';
import { buildFlow } from '../../src/orchestration/build-flow.js';
import { pollRunFlow } from '../../src/orchestration/poll-run.js';
import { ACTIVITY, POLL_RUN_ORCHESTRATOR } from '../../src/orchestration/steps.js';
import { contextSink, createLogger, jsonLinesSink, memorySink } from '../../src/telemetry/logger.js';
import { runFlow } from '../orchestration/fake-durable.js';

describe('logger', () => {
  it('keeps the level and the fields, merges child fields, drops undefined and records below the minimum', () => {
    const sink = memorySink();
    const log = createLogger(sink, { app: 'jb' }, 'info').child({ buildId: 'b1', definition: undefined });
    log.debug('hidden');
    log.info('started', { phase: 'preflight' });
    log.error('failed', { code: 'RunFailed' });
    expect(sink.records).toEqual([
      { level: 'info', message: 'started', fields: { app: 'jb', buildId: 'b1', phase: 'preflight' } },
      { level: 'error', message: 'failed', fields: { app: 'jb', buildId: 'b1', code: 'RunFailed' } },
    ]);
  });

  it('the build flow logs at the level each call site names: failed side steps warn, a failed build is an error', () => {
    // Archive, revoke and promote fail permanently; the run itself succeeds. Then a build whose prepare fails.
    const sink = memorySink();
    const ok = (value: unknown) => ({ ok: true, value });
    const fail = {
      ok: false,
      failure: { kind: 'permanent', code: 'Http403', message: 'AuthorizationFailed' },
    };
    const activity = (name: string, _input: unknown, now: number): unknown => {
      switch (name) {
        case ACTIVITY.prepare:
          return ok({
            identity: { id: '/id', principalId: 'p1', clientId: 'c1', created: false },
            sourceVersion: '1.2.3',
            plan: {
              minIntervalSeconds: 30,
              maxIntervalSeconds: 300,
              expectedSeconds: 60,
              deadlineSeconds: 3600,
              logLocation: 'https://a/c/',
              grantPropagationTimeoutSeconds: 1800,
            },
          });
        case ACTIVITY.grantImageContributor:
          return ok({ scopes: ['/rg'], assignments: [] });
        case ACTIVITY.deployTemplate:
          return ok({ templateName: 't', action: 'create', archivedLogs: [], reason: 'new' });
        case ACTIVITY.startRun:
          return ok({ templateName: 't', startedAt: new Date(now).toISOString() });
        case ACTIVITY.runStatus:
          return ok({ runState: 'Succeeded', runSubState: 'Distributing', artifactIds: ['/img'] });
        case ACTIVITY.archiveLogs:
        case ACTIVITY.revokeImageContributor:
        case ACTIVITY.promoteImage:
          return fail;
        default:
          return ok({});
      }
    };
    const input = { buildId: 'b1', definition: 'd', requestedAt: '2026-01-01T00:00:00Z', force: true };
    const log = createLogger(sink, { buildId: 'b1' });
    runFlow((df) => buildFlow(df, log), input, {
      activity,
      subFlows: { [POLL_RUN_ORCHESTRATOR]: pollRunFlow },
    });
    const levelOf = (re: RegExp) => sink.records.find((r) => re.test(r.message))?.level;
    expect(levelOf(/^log archival failed/)).toBe('warn');
    expect(levelOf(/^revoking Image Contributor failed/)).toBe('warn');
    expect(levelOf(/^promoting the image failed/)).toBe('warn');
    expect(levelOf(/^template t: create/)).toBe('info');
    expect(sink.records.some((r) => r.level === 'error')).toBe(false);

    const failed = memorySink();
    runFlow((df) => buildFlow(df, createLogger(failed)), input, {
      activity: (name) => (name === ACTIVITY.prepare ? fail : ok({})),
      subFlows: {},
    });
    expect(failed.records.map((r) => [r.level, r.message.split(':')[0]])).toEqual([
      ['error', 'build failed in preflight'],
    ]);
    expect(sink.records.every((r) => r.fields.buildId === 'b1')).toBe(true);
  });

  it('reaches the Functions context with the matching severity; JSON lines carry level and fields', () => {
    const calls: string[] = [];
    const ctx = {
      debug: (m: unknown) => calls.push(`debug ${String(m)}`),
      info: (m: unknown) => calls.push(`info ${String(m)}`),
      warn: (m: unknown) => calls.push(`warn ${String(m)}`),
      error: (m: unknown) => calls.push(`error ${String(m)}`),
    };
    const log = createLogger(contextSink(ctx), { buildId: 'b1' });
    log.warn('revoke failed');
    expect(calls).toEqual(['warn revoke failed {"buildId":"b1"}']);
    const lines: string[] = [];
    createLogger(
      jsonLinesSink(
        (l) => lines.push(l),
        () => new Date(0),
      ),
    ).error('x', { n: 1 });
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'error',
      message: 'x',
      n: 1,
    });
  });
});
