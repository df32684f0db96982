/** Steps that record their own phase (src/activities/run-step.ts): the record first, the work even if it fails. */
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { recordedStep } from '../../src/activities/run-step.js';

function depsWith(update: (ref: unknown, patch: unknown) => Promise<unknown>) {
  const lines: string[] = [];
  const table = {
    getEntity: async () => {
      throw Object.assign(new Error('not found'), { statusCode: 404 });
    },
    upsertEntity: update,
    updateEntity: update,
    createEntity: update,
  };
  const deps = {
    config: { records: { tableEndpoint: 'https://t', tableName: 'builds' } },
    clients: { table: () => table },
    log: (m: string) => lines.push(m),
  } as unknown as ActivityDeps;
  return { deps, lines };
}

describe('recordedStep', () => {
  const ref = { buildId: 'b1', definition: 'd', requestedAt: '2026-01-01T00:00:00.000Z' };

  it('runs the work with the input stripped of its record', async () => {
    const { deps } = depsWith(async () => ({}));
    const seen: unknown[] = [];
    const step = recordedStep(async (_d: ActivityDeps, input: { n: number }) => {
      seen.push(input);
      return input.n + 1;
    });
    await expect(step(deps, { n: 1 })).resolves.toBe(2);
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('a record that cannot be written is logged and the step still runs', async () => {
    const { deps, lines } = depsWith(async () => {
      throw Object.assign(new Error('table down'), { statusCode: 503 });
    });
    const step = recordedStep(async (_d: ActivityDeps, input: { n: number }) => input.n * 2);
    await expect(step(deps, { n: 4, record: { ref, patch: { phase: 'grant' } } })).resolves.toBe(8);
    expect(lines.some((l) => /build record update failed \(phase grant\)/.test(l))).toBe(true);
  });
});
