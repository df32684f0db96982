/** Properties of the pure parts: the AIB run timeline, version ordering, RBAC action matching. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  displayedState,
  planRun,
  runEvents,
  subStateAt,
  timeoutMsOf,
} from '../../src/local/arm-emulator/aib/build-run.js';
import { compareVersions, newestVersion } from '../../src/local/arm-emulator/aib/versions.js';
import type { BuildOutcome, PhaseDurations } from '../../src/local/arm-emulator/context.js';
import { parseAssignmentFilter } from '../../src/local/arm-emulator/providers/authorization.js';
import { orderVersions } from '../../src/local/arm-emulator/providers/compute.js';
import { actionMatches } from '../../src/local/arm-emulator/rbac.js';

const ORDER = ['Queued', 'Building', 'Customizing', 'Optimizing', 'Validating', 'Distributing'];
const seconds = fc.integer({ min: 0, max: 3 * 3600 });
const durations: fc.Arbitrary<PhaseDurations> = fc.record({
  queued: seconds,
  building: seconds,
  customizing: seconds,
  optimizing: seconds,
  validating: seconds,
  distributing: seconds,
  canceling: seconds,
});
const outcome: fc.Arbitrary<BuildOutcome> = fc.constantFrom(
  'success',
  'customizer-failure',
  'validation-failure',
  'timeout',
);
const plans = fc.record({
  start: fc.integer({ min: 0, max: 2 ** 40 }),
  d: durations,
  optimize: fc.boolean(),
  validate: fc.boolean(),
  outcome,
  timeoutMinutes: fc.integer({ min: 0, max: 960 }),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 6 * 3600 }), { nil: undefined }),
});

describe('run timeline', () => {
  it('lays phases end to end in AIB order, starting at the run start', () => {
    fc.assert(
      fc.property(plans, (p) => {
        const plan = planRun(p.start, p.d, {
          optimize: p.optimize,
          validate: p.validate,
          outcome: p.outcome,
          timeoutMs: timeoutMsOf(p.timeoutMinutes),
        });
        expect(plan.phases[0]!.startMs).toBe(p.start);
        plan.phases.forEach((ph, i) => {
          if (i > 0) expect(ph.startMs).toBe(plan.phases[i - 1]!.endMs);
          expect(ph.endMs).toBeGreaterThanOrEqual(ph.startMs);
        });
        const names = plan.phases.map((x) => x.subState);
        expect([...names].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))).toEqual(names);
        expect(names.includes('Optimizing')).toBe(p.optimize);
        expect(names.includes('Validating')).toBe(p.validate || p.outcome === 'validation-failure');
        expect(names.at(-1)).toBe('Distributing');
      }),
    );
  });

  it('has ordered events ending with exactly one terminal event that matches the outcome', () => {
    fc.assert(
      fc.property(plans, (p) => {
        const timeoutMs = timeoutMsOf(p.timeoutMinutes);
        const plan = planRun(p.start, p.d, {
          optimize: p.optimize,
          validate: p.validate,
          outcome: p.outcome,
          timeoutMs,
        });
        if (p.cancelAfter !== undefined) plan.cancelAtMs = p.start + p.cancelAfter * 1000;
        const events = runEvents(plan);
        for (let i = 1; i < events.length; i++)
          expect(events[i]!.atMs).toBeGreaterThanOrEqual(events[i - 1]!.atMs);
        const last = events.at(-1)!;
        const terminal = (e: (typeof events)[number]) =>
          e.kind === 'distributed' || e.kind === 'timeout' || e.kind === 'canceled' || e.failed;
        expect(terminal(last)).toBe(true);
        expect(events.slice(0, -1).some(terminal)).toBe(false);
        expect(last.atMs).toBeLessThanOrEqual(
          Math.max(p.start + timeoutMs, (plan.cancelAtMs ?? 0) + plan.cancelDurationMs),
        );
        if (p.outcome === 'timeout' && p.cancelAfter === undefined) expect(last.kind).toBe('timeout');
        if (last.kind === 'distributed')
          expect(p.outcome === 'success' || p.outcome === 'timeout').toBe(true);
        if (last.kind === 'canceled') expect(last.atMs).toBe(plan.cancelAtMs! + plan.cancelDurationMs);
      }),
    );
  });

  it('never moves the displayed sub-state backwards as time passes', () => {
    fc.assert(
      fc.property(
        plans,
        fc.array(fc.integer({ min: 0, max: 8 * 3600 }), { minLength: 2, maxLength: 20 }),
        (p, offsets) => {
          const plan = planRun(p.start, p.d, {
            optimize: p.optimize,
            validate: p.validate,
            outcome: p.outcome,
            timeoutMs: timeoutMsOf(p.timeoutMinutes),
          });
          const times = offsets.map((o) => p.start + o * 1000).sort((a, b) => a - b);
          const idx = times.map((t) => ORDER.indexOf(subStateAt(plan, t)));
          for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThanOrEqual(idx[i - 1]!);
          expect(displayedState(plan, p.start).runState).toBe('Running');
        },
      ),
    );
  });
});

const version = fc
  .tuple(fc.nat({ max: 30 }), fc.nat({ max: 30 }), fc.nat({ max: 300000000 }))
  .map((v) => v.join('.'));

describe('marketplace versions', () => {
  it('$orderby sorts as strings (ARM), $top cuts; "latest" is the numeric maximum', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(version, { minLength: 1, maxLength: 15 }),
        fc.option(fc.nat({ max: 20 }), { nil: undefined }),
        (vs, top) => {
          const desc = orderVersions(vs, 'name desc', top);
          expect(desc.length).toBe(Math.min(vs.length, top ?? vs.length));
          for (let i = 1; i < desc.length; i++) expect(desc[i - 1]! >= desc[i]!).toBe(true);
          const asc = orderVersions(vs, null, undefined);
          expect(asc).toEqual([...vs].sort());
          const newest = newestVersion(vs)!;
          expect(vs.every((v) => compareVersions(newest, v) >= 0)).toBe(true);
        },
      ),
    );
    expect(orderVersions(['24.04.99', '24.04.202501140'], 'name desc', 1)).toEqual(['24.04.99']);
    expect(newestVersion(['24.04.99', '24.04.202501140'])).toBe('24.04.202501140');
    expect(() => orderVersions(['1'], 'publishedDate', undefined)).toThrow(/\$orderby/);
  });
});

describe('RBAC helpers', () => {
  it('matches actions with wildcards, case-insensitively', () => {
    const segment = fc.stringMatching(/^[A-Za-z]{1,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 2, maxLength: 5 }), (parts) => {
        const action = parts.join('/');
        expect(actionMatches('*', action)).toBe(true);
        expect(actionMatches(action.toUpperCase(), action.toLowerCase())).toBe(true);
        expect(actionMatches(`${parts[0]}/*`, action)).toBe(true);
        expect(actionMatches(`${action}x`, action)).toBe(false);
      }),
    );
    expect(actionMatches('Microsoft.Compute/*', 'Microsoft.Compute/images/write')).toBe(true);
    expect(actionMatches('Microsoft.Compute/images/read', 'Microsoft.Compute/images/write')).toBe(false);
  });

  it('parses the role assignment filters ARM supports and rejects others', () => {
    expect(parseAssignmentFilter("atScope() and principalId eq 'abc'")).toEqual({
      atScope: true,
      principalId: 'abc',
    });
    expect(parseAssignmentFilter("assignedTo('x')")).toEqual({ atScope: false, assignedTo: 'x' });
    expect(parseAssignmentFilter(null)).toEqual({ atScope: false });
    expect(() => parseAssignmentFilter("roleDefinitionId eq 'x'")).toThrow(/not supported/);
  });
});
