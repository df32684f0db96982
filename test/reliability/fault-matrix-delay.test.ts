/**
 * The fault matrix runs every cell with a role propagation delay drawn in 30-600 virtual seconds (Azure: "it
 * can take up to 10 minutes for changes to take effect",
 * https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected),
 * seeded by the cell so that a cell replays the same delay in whichever worker process (`--jobs`) runs it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellRbacDelaySeconds, RBAC_DELAY_RANGE } from '../../src/faults/matrix.js';

describe('per-cell role propagation delay', () => {
  it('is a whole number of seconds in the range, the same for the same cell', () => {
    fc.assert(
      fc.property(fc.string(), (cell) => {
        const d = cellRbacDelaySeconds(cell);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(RBAC_DELAY_RANGE.min);
        expect(d).toBeLessThanOrEqual(RBAC_DELAY_RANGE.max);
        expect(cellRbacDelaySeconds(cell)).toBe(d);
      }),
    );
  });

  it('varies across cells (not one delay for the whole matrix)', () => {
    const cells = ['403', '404', '429', '500', '503', 'reset', 'slow'].map((f) => `success ${f} PUT /x`);
    expect(new Set(cells.map((c) => cellRbacDelaySeconds(c))).size).toBeGreaterThan(3);
  });

  it('--rbac-delay fixes it for every cell', () => {
    expect(cellRbacDelaySeconds('success 503 PUT /x', 0)).toBe(0);
    expect(cellRbacDelaySeconds('timeout 404 GET /y', 120)).toBe(120);
  });
});
