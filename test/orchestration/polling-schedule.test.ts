import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectedRunSeconds,
  FIRST_POLL_FRACTION,
  medianSeconds,
  nextPollDelaySeconds,
  type PollingPolicy,
} from '../../src/orchestration/polling-schedule.js';

const policyArb = fc
  .record({
    minIntervalSeconds: fc.integer({ min: 5, max: 120 }),
    extra: fc.integer({ min: 0, max: 600 }),
    expectedSeconds: fc.integer({ min: 60, max: 8 * 3600 }),
    deadlineExtra: fc.integer({ min: 60, max: 4 * 3600 }),
  })
  .map(
    (r): PollingPolicy => ({
      minIntervalSeconds: r.minIntervalSeconds,
      maxIntervalSeconds: r.minIntervalSeconds + r.extra,
      expectedSeconds: r.expectedSeconds,
      deadlineSeconds: r.expectedSeconds + r.deadlineExtra,
    }),
  );

const subStates = [
  'Queued',
  'Building',
  'Customizing',
  'Optimizing',
  'Validating',
  'Distributing',
  undefined,
];

describe('adaptive polling schedule', () => {
  it('later polls stay within [floor, ceiling] and never pass the deadline', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...subStates),
        (p, f, s) => {
          const elapsed = Math.floor(f * (p.deadlineSeconds - 1));
          const d = nextPollDelaySeconds(p, { elapsedSeconds: elapsed, runSubState: s, firstPoll: false });
          expect(d).toBeGreaterThanOrEqual(1);
          expect(elapsed + d).toBeLessThanOrEqual(p.deadlineSeconds);
          expect(d).toBeLessThanOrEqual(p.maxIntervalSeconds);
          if (elapsed + p.minIntervalSeconds <= p.deadlineSeconds)
            expect(d).toBeGreaterThanOrEqual(p.minIntervalSeconds);
        },
      ),
    );
  });

  it('intervals shrink (never grow) while approaching the expected end', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (p, a, b) => {
          const [e1, e2] = [a, b].map((x) => Math.floor(x * p.expectedSeconds)).sort((x, y) => x - y) as [
            number,
            number,
          ];
          const d1 = nextPollDelaySeconds(p, {
            elapsedSeconds: e1,
            runSubState: 'Customizing',
            firstPoll: false,
          });
          const d2 = nextPollDelaySeconds(p, {
            elapsedSeconds: e2,
            runSubState: 'Customizing',
            firstPoll: false,
          });
          expect(d2).toBeLessThanOrEqual(d1);
        },
      ),
    );
  });

  it('polls at the floor while Distributing (never past the deadline)', () => {
    fc.assert(
      fc.property(policyArb, fc.double({ min: 0, max: 0.5, noNaN: true }), (p, f) => {
        const elapsed = Math.floor(f * p.expectedSeconds);
        expect(
          nextPollDelaySeconds(p, { elapsedSeconds: elapsed, runSubState: 'Distributing', firstPoll: false }),
        ).toBe(Math.min(p.minIntervalSeconds, p.deadlineSeconds - elapsed));
      }),
    );
  });

  it('waits a fraction of the expected duration before the first poll (bounded by the deadline)', () => {
    const p: PollingPolicy = {
      minIntervalSeconds: 30,
      maxIntervalSeconds: 300,
      expectedSeconds: 2100,
      deadlineSeconds: 6300,
    };
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 0, firstPoll: true })).toBe(
      Math.ceil(2100 * FIRST_POLL_FRACTION),
    );
    expect(nextPollDelaySeconds({ ...p, deadlineSeconds: 100 }, { elapsedSeconds: 0, firstPoll: true })).toBe(
      100,
    );
    // near the expected end the interval reaches the floor; far from it, the ceiling
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 2090, firstPoll: false })).toBe(30);
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 700, firstPoll: false })).toBe(300);
    // overrunning: the interval grows again
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 2500, firstPoll: false })).toBe(100);
  });

  it('returns 0 at or past the deadline', () => {
    const p: PollingPolicy = {
      minIntervalSeconds: 30,
      maxIntervalSeconds: 300,
      expectedSeconds: 600,
      deadlineSeconds: 900,
    };
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 900, firstPoll: false })).toBe(0);
    expect(nextPollDelaySeconds(p, { elapsedSeconds: 5000, firstPoll: true })).toBe(0);
  });

  it('rejects a bad policy, naming the field', () => {
    const p: PollingPolicy = {
      minIntervalSeconds: 300,
      maxIntervalSeconds: 30,
      expectedSeconds: 600,
      deadlineSeconds: 900,
    };
    expect(() => nextPollDelaySeconds(p, { elapsedSeconds: 0, firstPoll: true })).toThrow(
      /minIntervalSeconds/,
    );
    expect(() =>
      nextPollDelaySeconds(
        { ...p, minIntervalSeconds: 10, expectedSeconds: 0 },
        { elapsedSeconds: 0, firstPoll: true },
      ),
    ).toThrow(/expectedSeconds/);
  });

  it('median of recent durations, default when none', () => {
    expect(medianSeconds([])).toBeUndefined();
    expect(medianSeconds([300, 100, 200])).toBe(200);
    expect(medianSeconds([400, 100, 200, 300])).toBe(250);
    expect(expectedRunSeconds([], 35)).toBe(2100);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100000 }), { minLength: 1, maxLength: 20 }), (xs) => {
        const m = medianSeconds(xs)!;
        expect(m).toBeGreaterThanOrEqual(Math.min(...xs));
        expect(m).toBeLessThanOrEqual(Math.max(...xs));
        expect(medianSeconds([...xs].reverse())).toBe(m);
      }),
    );
  });
});
