/**
 * ARM asynchronous operations: the resources behind `Azure-AsyncOperation` (status InProgress /
 * Succeeded / Failed / Canceled with `error`) and `Location` (202 while running, 204 when done).
 *
 * Two kinds of drivers: provisioning operations complete after a set number of observations (polls or
 * reads of the resource), so that a client waiting on one never depends on the simulated clock; build
 * operations (run, cancel) follow the build state machine on the virtual clock.
 */
import { randomUUID } from 'node:crypto';
import type { ArmErrorDetail } from './errors.js';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationError {
  readonly code: string;
  readonly message: string;
  readonly details?: readonly ArmErrorDetail[];
}

export type OperationOutcome = { status: Exclude<OperationStatus, 'InProgress'>; error?: OperationError };

export type OperationDriver =
  | { kind: 'polls'; remaining: number; complete: () => OperationOutcome }
  | { kind: 'watch'; check: () => OperationOutcome | undefined };

export interface AsyncOperation {
  readonly id: string;
  readonly namespace: string;
  readonly location: string;
  readonly apiVersion: string;
  readonly resourceId: string;
  readonly startMs: number;
  status: OperationStatus;
  endMs?: number;
  error?: OperationError;
  readonly driver: OperationDriver;
}

export class OperationRegistry {
  private readonly ops = new Map<string, AsyncOperation>();

  constructor(private readonly now: () => number) {}

  create(init: {
    namespace: string;
    location: string;
    apiVersion: string;
    resourceId: string;
    driver: OperationDriver;
  }): AsyncOperation {
    const op: AsyncOperation = { ...init, id: randomUUID(), startMs: this.now(), status: 'InProgress' };
    this.ops.set(op.id.toLowerCase(), op);
    return op;
  }

  get(id: string): AsyncOperation | undefined {
    return this.ops.get(id.toLowerCase());
  }

  /** One observation: counts down poll-driven operations and re-checks watched ones. */
  observe(op: AsyncOperation): AsyncOperation {
    if (op.status !== 'InProgress') return op;
    let outcome: OperationOutcome | undefined;
    if (op.driver.kind === 'polls') {
      op.driver.remaining -= 1;
      if (op.driver.remaining <= 0) outcome = op.driver.complete();
    } else {
      outcome = op.driver.check();
    }
    if (outcome) {
      op.status = outcome.status;
      op.endMs = this.now();
      if (outcome.error) op.error = outcome.error;
    }
    return op;
  }

  /** Completes a poll-driven operation now (used when its resource is read or the clock moves). */
  settle(op: AsyncOperation): AsyncOperation {
    if (op.status === 'InProgress' && op.driver.kind === 'polls') op.driver.remaining = 1;
    return this.observe(op);
  }

  pending(): AsyncOperation[] {
    return [...this.ops.values()].filter((o) => o.status === 'InProgress');
  }

  clear(): void {
    this.ops.clear();
  }
}

export function operationStatusBody(op: AsyncOperation, subscriptionId: string) {
  return {
    id: `/subscriptions/${subscriptionId}/providers/${op.namespace}/locations/${op.location}/operations/${op.id}`,
    name: op.id,
    status: op.status,
    startTime: new Date(op.startMs).toISOString(),
    ...(op.endMs !== undefined ? { endTime: new Date(op.endMs).toISOString() } : {}),
    ...(op.error
      ? { error: { code: op.error.code, message: op.error.message, details: op.error.details ?? [] } }
      : {}),
  };
}
