/** The leveled structured logger (src/telemetry/logger.ts) and the build flow's adapter onto it. */
import { describe, expect, it } from 'vitest';
import { contextSink, createLogger, flowLog, jsonLinesSink, memorySink } from '../../src/telemetry/logger.js';

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

  it('the build flow: failed revoke/archive/tag/promote steps are warnings, a failed build is an error', () => {
    const sink = memorySink();
    const log = flowLog(createLogger(sink, { buildId: 'b1' }));
    // The flow's own wording (src/orchestration/build-flow.ts).
    log('revoking Image Contributor failed (the janitor will retry): 403 AuthorizationFailed');
    log('log archival failed: 404 ContainerNotFound');
    log('tagging the image failed: 409 Conflict');
    log('promoting the image failed: 409 Conflict');
    log('build failed in polling: RunFailed: Customizing: exit 1');
    log('template aks-jumpbox-0123456789ab: create (new)');
    log.error('explicit');
    expect(sink.records.map((r) => r.level)).toEqual([
      'warn',
      'warn',
      'warn',
      'warn',
      'error',
      'info',
      'error',
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
