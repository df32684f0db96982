/**
 * The start-run step never starts a second run for one build: when an earlier attempt's answer was lost
 * (client timeout, connection reset, host killed after the request reached Image Builder) the template's
 * lastRunStatus already shows a run that started after the step was first asked (`requestedAfter`, with a
 * 60 s clock-skew allowance), and that run is adopted. A permanent 404 on the run's operation status
 * (found by the fault matrix: `GET …/locations/{}/operations/{}` 404 failed the build while its run went on,
 * and its log was never archived) makes the step read lastRunStatus instead of failing.
 * lastRunStatus (startTime, runState, message) is the template's REST shape (ImageTemplateLastRunStatus in
 * /work/shared/specs/specification/imagebuilder/…/stable/2025-10-01/imagebuilder.json); the Image Builder client is reduced to get and run.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { adoptableRunStart, CLOCK_SKEW_ALLOWANCE_MS, startRun } from '../../src/activities/run/image-run.js';

const ASKED = new Date('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(ASKED.getTime() + ms);

interface Fake {
  lastRunStatus: Record<string, unknown> | undefined;
  runs: number;
  pollError?: Error | undefined;
}

function deps(f: Fake): Parameters<typeof startRun>[0] {
  return {
    config: { resourceGroups: { imageBuilder: 'rg' } } as ActivityDeps['config'],
    clients: {
      imageBuilder: {
        virtualMachineImageTemplates: {
          get: async () => ({ lastRunStatus: f.lastRunStatus }),
          run: () => {
            f.runs += 1;
            // Image Builder registers the run: a new startTime, Running.
            f.lastRunStatus = { runState: 'Running', startTime: at(120_000) };
            return {
              submitted: async () => undefined,
              poll: async () => {
                if (f.pollError) throw f.pollError;
              },
              operationState: { status: 'running' },
              serialize: async () => '{"state":{}}',
            };
          },
        },
      },
    } as unknown as ActivityDeps['clients'],
    log: () => {},
    sleep: async () => {},
    lroPollIntervalMs: 1,
  };
}

describe('start-run adopts a run an earlier attempt started', () => {
  it('a Running run that started after the step was first asked is adopted; no second run', async () => {
    const f: Fake = { lastRunStatus: { runState: 'Running', startTime: at(5_000) }, runs: 0 };
    const h = await startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() });
    expect(f.runs).toBe(0);
    expect(h).toMatchObject({ templateName: 't', startedAt: at(5_000).toISOString() });
    expect(h.previousRunStartTime).toBeUndefined();
  });

  it('a run that already ended (a fast failure) is adopted too, not started again', async () => {
    const f: Fake = {
      lastRunStatus: { runState: 'Failed', message: 'script exited 1', startTime: at(5_000) },
      runs: 0,
    };
    await startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() });
    expect(f.runs).toBe(0);
  });

  it('Image Builder clock up to 60 s behind still counts as after; further behind is an earlier build', () => {
    const asked = ASKED.toISOString();
    expect(adoptableRunStart({ startTime: at(-CLOCK_SKEW_ALLOWANCE_MS), runState: 'Running' }, asked)).toBe(
      at(-CLOCK_SKEW_ALLOWANCE_MS).toISOString(),
    );
    expect(
      adoptableRunStart({ startTime: at(-CLOCK_SKEW_ALLOWANCE_MS - 1), runState: 'Running' }, asked),
    ).toBeUndefined();
    expect(adoptableRunStart({ startTime: at(5_000), runState: 'Running' }, undefined)).toBeUndefined();
  });

  it("the previous build's run on a reused template is not adopted: a new run is started", async () => {
    const f: Fake = { lastRunStatus: { runState: 'Succeeded', startTime: at(-3_600_000) }, runs: 0 };
    const h = await startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() });
    expect(f.runs).toBe(1);
    expect(h.previousRunStartTime).toBe(at(-3_600_000).toISOString());
  });

  it('a run refused for rights (grant not effective yet) is asked again, not adopted', async () => {
    const f: Fake = {
      lastRunStatus: {
        runState: 'Failed',
        startTime: at(5_000),
        message:
          'Not authorized to access the resource /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/x. Please check the user assigned identity has the correct permissions.',
      },
      runs: 0,
    };
    await startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() });
    expect(f.runs).toBe(1);
  });
});

describe('start-run with a permanent 404 on the run operation', () => {
  it('reads lastRunStatus instead of failing: the registered run is accepted, without its operation', async () => {
    const f: Fake = {
      lastRunStatus: { runState: 'Succeeded', startTime: at(-3_600_000) },
      runs: 0,
      pollError: Object.assign(new Error('The operation was not found.'), {
        statusCode: 404,
        code: 'ResourceNotFound',
      }),
    };
    const h = await startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() });
    expect(f.runs).toBe(1);
    expect(h.operation).toBeUndefined();
    expect(h.previousRunStartTime).toBe(at(-3_600_000).toISOString());
  });

  it('other permanent failures of the operation still fail the step', async () => {
    const f: Fake = {
      lastRunStatus: undefined,
      runs: 0,
      pollError: Object.assign(new Error('bad request'), { statusCode: 400, code: 'InvalidParameter' }),
    };
    await expect(
      startRun(deps(f), { templateName: 't', requestedAfter: ASKED.toISOString() }),
    ).rejects.toThrow(/bad request/);
  });
});
