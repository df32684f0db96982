import { describe, expect, it } from 'vitest';
import {
  COPY_BLOCK_BYTES,
  COPY_BLOCKS_IN_FLIGHT,
  copyBlobServerSide,
  copyRanges,
} from '../../src/activities/logs/archive-logs.js';

const MiB = 1024 * 1024;

describe('server-side log copy', () => {
  it('stages 100 MiB ranges that cover the blob exactly, each within the 4000 MiB block limit', () => {
    for (const size of [0, 1, 10e6, 100e6, COPY_BLOCK_BYTES, COPY_BLOCK_BYTES + 1, 1024e6, 5000 * MiB]) {
      const ranges = copyRanges(size);
      expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(size);
      ranges.forEach((r, i) => {
        expect(r.offset).toBe(i * COPY_BLOCK_BYTES);
        expect(r.count).toBeGreaterThan(0);
        expect(r.count).toBeLessThanOrEqual(Math.min(COPY_BLOCK_BYTES, 4000 * MiB));
      });
      // Block ids of one blob must all have the same length.
      expect(new Set(ranges.map((r) => r.id.length)).size).toBeLessThanOrEqual(1);
    }
    expect(copyRanges(1024e6)).toHaveLength(10);
  });

  it('keeps at most four Put Block From URL in flight and commits the blocks in range order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const staged: string[] = [];
    const pending: (() => void)[] = [];
    let committed: string[] = [];
    const destination = {
      url: 'https://archive/x',
      stageBlockFromURL: (id: string) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<void>((resolve) =>
          pending.push(() => {
            inFlight--;
            staged.push(id);
            resolve();
          }),
        );
      },
      commitBlockList: async (ids: string[]) => {
        committed = ids;
      },
    };
    const copy = copyBlobServerSide(
      { credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }) } },
      'https://staging/log',
      1024e6,
      destination as never,
      {},
    );
    // Finish the calls out of order (newest first) until none is left.
    while (staged.length < 10) {
      await new Promise((r) => setImmediate(r));
      pending.pop()?.();
    }
    expect(await copy).toBe('https://archive/x');
    expect(maxInFlight).toBe(COPY_BLOCKS_IN_FLIGHT);
    expect(committed).toEqual(copyRanges(1024e6).map((r) => r.id));
    expect(staged).not.toEqual(committed);
  });
});
