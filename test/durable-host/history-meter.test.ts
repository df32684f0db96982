/**
 * The history meter (src/local/history-meter.ts): written = every event of every execution; kept = the rows
 * Azure Storage leaves after continue-as-new, i.e. the longest execution's (row key = sequence number within
 * the execution, InsertOrReplace: Azure/durabletask AzureTableTrackingStore.UpdateStateAsync, PR #363).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EpisodeInfo } from '../../src/local/durable-host/index.js';
import { createHistoryMeter } from '../../src/local/history-meter.js';

const episode = (instanceId: string, runtimeStatus: EpisodeInfo['runtimeStatus'], historyEvents: number) => ({
  instanceId,
  name: 'poller',
  episode: 0,
  runtimeStatus,
  historyEvents,
});

describe('history meter', () => {
  it('counts the longest execution as kept and every execution as written', () => {
    const m = createHistoryMeter();
    m.onEpisode(episode('b', 'Running', 5));
    m.onEpisode(episode('b:poll:0', 'Running', 4));
    m.onEpisode(episode('b:poll:0', 'ContinuedAsNew', 50));
    m.onEpisode(episode('b:poll:0', 'Running', 10));
    m.onEpisode(episode('b:poll:0', 'Completed', 20));
    m.onEpisode(episode('b', 'Completed', 40));
    m.onEpisode(episode('other', 'Completed', 7));
    expect(m.instance('b:poll:0')).toMatchObject({ executions: 2, written: 70, kept: 50 });
    expect(m.tree('b').map((x) => x.instanceId)).toEqual(['b', 'b:poll:0']);
    expect(m.instance('b')).toMatchObject({ executions: 1, written: 40, kept: 40 });
    m.reset();
    expect(m.instance('b')).toBeUndefined();
  });

  it('kept never exceeds written and is at least the last execution (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 3, max: 200 }), { minLength: 1, maxLength: 30 }), (lengths) => {
        const m = createHistoryMeter();
        lengths.forEach((n, i) => {
          m.onEpisode(episode('x', i < lengths.length - 1 ? 'ContinuedAsNew' : 'Completed', n));
        });
        const h = m.instance('x')!;
        expect(h.executions).toBe(lengths.length);
        expect(h.written).toBe(lengths.reduce((a, b) => a + b, 0));
        expect(h.kept).toBe(Math.max(...lengths));
      }),
    );
  });
});
