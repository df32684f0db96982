/**
 * The step registry's types: callStep takes exactly the input of the activity function behind the step and
 * returns its result type; ACTIVITY names come from the registry. The @ts-expect-error lines fail
 * `npm run typecheck` if a wrong input ever compiles.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Prepared } from '../../src/activities/prepare-build.js';
import type { RunHandle, RunStatus } from '../../src/activities/run/image-run.js';
import { callStep } from '../../src/orchestration/activity-call.js';
import type { Flow, OrchestrationPort } from '../../src/orchestration/durable-port.js';
import {
  ACTIVITY,
  ALL_STEPS,
  defineStep,
  type StepInput,
  type StepResult,
  steps,
} from '../../src/orchestration/steps.js';

declare const df: OrchestrationPort;

describe('step registry types', () => {
  it('infers input and result from the activity function', () => {
    expectTypeOf<StepResult<typeof steps.prepare>>().toEqualTypeOf<Prepared>();
    expectTypeOf<StepResult<typeof steps.startRun>>().toEqualTypeOf<RunHandle & { startedAt: string }>();
    expectTypeOf<StepInput<typeof steps.cancelRun>>().toHaveProperty('templateName');
    const typed = () => callStep(df, steps.runStatus, { run: { templateName: 't' } });
    expectTypeOf(typed).returns.toEqualTypeOf<Flow<RunStatus>>();
    const step = defineStep('x', async (_deps, input: { n: number }) => input.n * 2);
    expectTypeOf<StepInput<typeof step>>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<StepResult<typeof step>>().toEqualTypeOf<number>();
    expectTypeOf(step.name).toEqualTypeOf<'x'>();
  });

  it('a wrong input does not compile', () => {
    const calls = [
      // @ts-expect-error startRun needs templateName
      () => callStep(df, steps.startRun, { template: 't' }),
      // @ts-expect-error prepare's definition is a string
      () => callStep(df, steps.prepare, { definition: 1, buildId: 'b' }),
      // @ts-expect-error the poll step takes a run handle, not a bare template name
      () => callStep(df, steps.runStatus, { templateName: 't' }),
    ];
    expect(calls).toHaveLength(3);
  });

  it('one name per step: ACTIVITY is derived from the registry, names are unique', () => {
    expectTypeOf(ACTIVITY.startRun).toEqualTypeOf<'buildStartRun'>();
    expect(Object.values(ACTIVITY)).toEqual(ALL_STEPS.map((s) => s.name));
    expect(new Set(ALL_STEPS.map((s) => s.name)).size).toBe(ALL_STEPS.length);
  });
});
