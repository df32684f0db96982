/**
 * Durable state of every orchestration instance: one JSON file per instance in `<stateDir>/<taskHub>/`,
 * written atomically (temp file + rename) after every change, so a host process can stop between any two
 * steps and a new one resumes from the files.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FailureDetails, HistoryEvent } from './history.js';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated';

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface PendingActivity {
  readonly executionId: string;
  readonly id: number;
  readonly name: string;
  readonly input: unknown;
}

export interface PendingTimer {
  readonly executionId: string;
  readonly id: number;
  readonly fireAt: string;
}

export interface ParentLink {
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskScheduledId: number;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  /** JSON text. */
  input: string;
  output: string | undefined;
  customStatus: string | undefined;
  failure: FailureDetails | undefined;
  createdTime: string;
  lastUpdatedTime: string;
  /** History of the current execution (given to the orchestrator on every episode). */
  history: HistoryEvent[];
  /** Events that arrived and wait for the next episode. */
  inbox: HistoryEvent[];
  /** Signatures of the actions the orchestrator returned in its last episode (prefix rule). */
  actionSignatures: string[];
  activities: PendingActivity[];
  timers: PendingTimer[];
  parent: ParentLink | undefined;
  episodes: number;
}

export class InstanceStore {
  private readonly dir: string;
  private readonly instances = new Map<string, InstanceRecord>();

  constructor(stateDir: string, taskHub: string) {
    this.dir = join(stateDir, encodeURIComponent(taskHub));
    mkdirSync(this.dir, { recursive: true });
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const record = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as InstanceRecord;
      this.instances.set(record.instanceId, record);
    }
  }

  get(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId);
  }

  all(): IterableIterator<InstanceRecord> {
    return this.instances.values();
  }

  save(record: InstanceRecord): void {
    this.instances.set(record.instanceId, record);
    const path = this.pathOf(record.instanceId);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, path);
  }

  delete(instanceId: string): boolean {
    const existed = this.instances.delete(instanceId);
    rmSync(this.pathOf(instanceId), { force: true });
    return existed;
  }

  private pathOf(instanceId: string): string {
    return join(this.dir, `${encodeURIComponent(instanceId)}.json`);
  }
}
