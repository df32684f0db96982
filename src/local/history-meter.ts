/**
 * Counts orchestration history events per instance on the local Durable host (pass `meter.onEpisode` as the
 * host's onEpisode option).
 *
 * - written: every event written to the history table, over all executions of the instance.
 * - kept: the rows the instance leaves in the history table. The Azure Storage provider keys history rows
 *   by instance id (partition) and the event's sequence number within its execution (row key, "X16"), and
 *   writes them with InsertOrReplace (Azure/durabletask, AzureTableTrackingStore.UpdateStateAsync): a new
 *   execution after continue-as-new overwrites the previous one's rows from the start
 *   (Azure/azure-functions-durable-extension issue #94), and rows past the new execution's length stay
 *   behind (Azure/durabletask PR #363 and PR #1119). So the rows kept are those of the longest execution,
 *   not of the last one — which is what this meter counts.
 */
import type { EpisodeInfo } from './durable-host/engine.js';

export interface InstanceHistory {
  readonly instanceId: string;
  readonly name: string;
  /** Executions so far (1 + continue-as-new count). */
  readonly executions: number;
  readonly written: number;
  readonly kept: number;
}

interface Tally {
  name: string;
  executions: number;
  /** Events of executions that ended by continuing as new. */
  finishedWritten: number;
  longestFinished: number;
  /** Events of the current execution. */
  current: number;
}

export interface HistoryMeter {
  readonly onEpisode: (info: EpisodeInfo) => void;
  instance(instanceId: string): InstanceHistory | undefined;
  /** Instances whose id is `instanceId` or starts with `${instanceId}:` (its sub-orchestrations). */
  tree(instanceId: string): InstanceHistory[];
  reset(): void;
}

export function createHistoryMeter(): HistoryMeter {
  const tallies = new Map<string, Tally>();
  const view = (instanceId: string, t: Tally): InstanceHistory => ({
    instanceId,
    name: t.name,
    executions: t.executions,
    written: t.finishedWritten + t.current,
    kept: Math.max(t.longestFinished, t.current),
  });
  return {
    onEpisode(info) {
      let t = tallies.get(info.instanceId);
      if (!t) {
        t = { name: info.name, executions: 1, finishedWritten: 0, longestFinished: 0, current: 0 };
        tallies.set(info.instanceId, t);
      }
      if (info.runtimeStatus === 'ContinuedAsNew') {
        t.finishedWritten += info.historyEvents;
        t.longestFinished = Math.max(t.longestFinished, info.historyEvents);
        t.executions++;
        t.current = 0;
      } else {
        t.current = info.historyEvents;
      }
    },
    instance(instanceId) {
      const t = tallies.get(instanceId);
      return t ? view(instanceId, t) : undefined;
    },
    tree(instanceId) {
      return [...tallies.entries()]
        .filter(([id]) => id === instanceId || id.startsWith(`${instanceId}:`))
        .map(([id, t]) => view(id, t));
    },
    reset() {
      tallies.clear();
    },
  };
}
