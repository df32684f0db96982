/**
 * The build view while a build polls: the run's sub-state is recorded by the polling steps (the build's own
 * custom status has it once the run ended), so GET /api/builds/{id} shows the recorded one in the live status.
 */
import { describe, expect, it } from 'vitest';
import { buildView } from '../../src/api/build-view.js';
import type { BuildRecord } from '../../src/records/build-records.js';

const record = (over: Partial<BuildRecord>): BuildRecord =>
  ({
    buildId: 'b1',
    definition: 'd',
    trigger: 'http',
    reason: 'r',
    requestedBy: 'me',
    requestedAt: '2026-01-01T00:00:00.000Z',
    status: 'Running',
    ...over,
  }) as BuildRecord;

const live = (customStatus: Record<string, unknown>) => ({
  instanceId: 'jumpbox-build-d',
  runtimeStatus: 'Running' as const,
  input: { buildId: 'b1' },
  customStatus: { buildId: 'b1', ...customStatus },
});

describe('build view', () => {
  it('while polling, the live status shows the recorded run state and sub-state', () => {
    const v = buildView(
      'b1',
      'd',
      record({ phase: 'polling', runState: 'Running', runSubState: 'Customizing' }),
      live({ phase: 'polling' }),
    );
    expect(v?.runtime?.customStatus).toMatchObject({
      phase: 'polling',
      runState: 'Running',
      runSubState: 'Customizing',
    });
  });

  it('the build’s own sub-state wins, and other phases are shown as they are', () => {
    const own = buildView(
      'b1',
      'd',
      record({ runSubState: 'Customizing' }),
      live({ phase: 'polling', runSubState: 'Distributing' }),
    );
    expect(own?.runtime?.customStatus).toMatchObject({ runSubState: 'Distributing' });
    const archiving = buildView(
      'b1',
      'd',
      record({ runSubState: 'Customizing' }),
      live({ phase: 'archiving' }),
    );
    expect(archiving?.runtime?.customStatus).toEqual({ buildId: 'b1', phase: 'archiving' });
  });
});
