/**
 * What the entry points need from the Durable client, as a narrow port: the handlers and services depend on
 * this interface, `durableClientPort` adapts the real `DurableClient` to it, and unit tests use fakes.
 */
import type { BuildInput } from '../orchestration/contracts.js';

/** Runtime statuses of the Durable extension. */
export type RuntimeStatus =
  | 'Pending'
  | 'Running'
  | 'Completed'
  | 'ContinuedAsNew'
  | 'Failed'
  | 'Canceled'
  | 'Terminated'
  | 'Suspended'
  | 'Unknown';

export interface InstanceSnapshot {
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input?: unknown;
  readonly customStatus?: unknown;
  readonly output?: unknown;
  readonly createdTime?: string | undefined;
  readonly lastUpdatedTime?: string | undefined;
}

export interface BuildOrchestrations {
  /** The instance's status, or undefined when no instance with that id exists. */
  status(instanceId: string): Promise<InstanceSnapshot | undefined>;
  /** Starts BUILD_ORCHESTRATOR; rejects when the task hub refuses (an active instance holds the id). */
  start(instanceId: string, input: BuildInput): Promise<void>;
  /** Raises CANCEL_EVENT on the instance. */
  requestCancel(instanceId: string, reason: string): Promise<void>;
}

/**
 * States in which an instance id is taken. host.json sets `overridableExistingInstanceStates:
 * NonRunningStates`, so only Completed, Failed, Canceled and Terminated instances may be replaced.
 */
const ACTIVE: ReadonlySet<RuntimeStatus> = new Set(['Pending', 'Running', 'ContinuedAsNew', 'Suspended']);

export function isActive(status: RuntimeStatus): boolean {
  return ACTIVE.has(status);
}

const KNOWN: ReadonlySet<string> = new Set([...ACTIVE, 'Completed', 'Failed', 'Canceled', 'Terminated']);

export function toRuntimeStatus(value: unknown): RuntimeStatus {
  return typeof value === 'string' && KNOWN.has(value) ? (value as RuntimeStatus) : 'Unknown';
}

/** The build id an instance is working on: from its input, else from its custom status (BuildProgress). */
export function buildIdOf(snapshot: InstanceSnapshot): string | undefined {
  for (const v of [snapshot.input, snapshot.customStatus, snapshot.output]) {
    if (v && typeof v === 'object' && typeof (v as { buildId?: unknown }).buildId === 'string') {
      return (v as { buildId: string }).buildId;
    }
  }
  return undefined;
}
