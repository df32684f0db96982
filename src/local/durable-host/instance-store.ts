/**
 * Durable state of every orchestration instance: one append-only journal per instance in
 * `<stateDir>/<taskHub>/<id>.jsonl`. Every change appends the whole record as one line (appends are cheap;
 * rewriting files is not on ext4), the newest complete line wins on load (a torn last line from a crash is
 * ignored), and a journal that grows past a limit is compacted to its last line (temp file + rename).
 * So a host process can stop between any two steps and a new one resumes from the files.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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

const COMPACT_AT_BYTES = 4 * 1024 * 1024;

function lastCompleteRecord(text: string): InstanceRecord | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    try {
      return JSON.parse(line) as InstanceRecord;
    } catch {
      // torn write at the end of the journal: fall back to the previous line
    }
  }
  return undefined;
}

export class InstanceStore {
  private readonly dir: string;
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly journals = new Map<string, { fd: number; bytes: number }>();

  constructor(stateDir: string, taskHub: string) {
    this.dir = join(stateDir, encodeURIComponent(taskHub));
    mkdirSync(this.dir, { recursive: true });
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.jsonl')) continue;
      const record = lastCompleteRecord(readFileSync(join(this.dir, file), 'utf8'));
      if (record) this.instances.set(record.instanceId, record);
    }
  }

  /** Closes the journals (the store stays readable in memory). */
  close(): void {
    for (const j of this.journals.values()) closeSync(j.fd);
    this.journals.clear();
  }

  get(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId);
  }

  all(): IterableIterator<InstanceRecord> {
    return this.instances.values();
  }

  save(record: InstanceRecord): void {
    this.instances.set(record.instanceId, record);
    const line = `${JSON.stringify(record)}\n`;
    const path = this.pathOf(record.instanceId);
    let journal = this.journals.get(record.instanceId);
    if (journal && journal.bytes + line.length > COMPACT_AT_BYTES) {
      closeSync(journal.fd);
      this.journals.delete(record.instanceId);
      writeFileSync(`${path}.tmp`, line);
      renameSync(`${path}.tmp`, path);
      journal = undefined;
      this.journals.set(record.instanceId, { fd: openSync(path, 'a'), bytes: Buffer.byteLength(line) });
      return;
    }
    if (!journal) {
      journal = { fd: openSync(path, 'a'), bytes: 0 };
      this.journals.set(record.instanceId, journal);
    }
    journal.bytes += writeSync(journal.fd, line);
  }

  delete(instanceId: string): boolean {
    const existed = this.instances.delete(instanceId);
    const journal = this.journals.get(instanceId);
    if (journal) closeSync(journal.fd);
    this.journals.delete(instanceId);
    rmSync(this.pathOf(instanceId), { force: true });
    return existed;
  }

  private pathOf(instanceId: string): string {
    return join(this.dir, `${encodeURIComponent(instanceId)}.jsonl`);
  }
}
