/**
 * ARM asynchronous operations: the resources behind `Azure-AsyncOperation` (status InProgress /
 * Succeeded / Failed / Canceled with `error`) and `Location` (202 while running, 204 when done).
 *
 * Two kinds of drivers: provisioning operations complete after a set number of observations (polls or
 * reads of the resource), so that a client waiting on one never depends on the simulated clock; build
 * operations (run, cancel) follow the build state machine on the virtual clock.
 *
 * An operation is plain data: what completes it is named (`Completion`), and the code behind each name is
 * registered once (`register`). So the registry can be saved and restored (persistence.ts) and an operation
 * URL handed out before a restart still answers after it.
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

/** What decides an operation's outcome: a registered completer's name and its (JSON) arguments. */
export interface Completion {
  readonly name: string;
  readonly args?: Record<string, unknown>;
}

/** Returns the outcome, or undefined while the operation is still running. */
export type Completer = (args: Record<string, unknown>) => OperationOutcome | undefined;

/** Ends in Succeeded. */
export const SUCCEEDED: Completion = { name: 'succeeded' };

/** Ends in Failed with this error. */
export function failedWith(error: OperationError): Completion {
  return { name: 'failed', args: { error } };
}

export type OperationDriver =
  /** Completes after `remaining` observations (polls or reads of the resource). */
  | { kind: 'polls'; remaining: number; readonly completion: Completion }
  /** Completes when the completer says so (checked at each observation). */
  | { kind: 'watch'; readonly completion: Completion };

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
  private readonly completers = new Map<string, Completer>();

  constructor(private readonly now: () => number) {
    this.register(SUCCEEDED.name, () => ({ status: 'Succeeded' }));
    this.register('failed', (args) => ({ status: 'Failed', error: args.error as OperationError }));
  }

  /** Names the code that completes operations of one kind; one name, one completer. */
  register(name: string, completer: Completer): void {
    if (this.completers.has(name)) throw new Error(`an operation completer named '${name}' exists already`);
    this.completers.set(name, completer);
  }

  private outcomeOf(c: Completion): OperationOutcome | undefined {
    const completer = this.completers.get(c.name);
    if (!completer) throw new Error(`no operation completer named '${c.name}' is registered`);
    return completer(c.args ?? {});
  }

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
      if (op.driver.remaining <= 0) outcome = this.outcomeOf(op.driver.completion);
    } else {
      outcome = this.outcomeOf(op.driver.completion);
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

  /** Every operation, as plain data (persistence.ts). */
  snapshot(): AsyncOperation[] {
    return [...this.ops.values()].map((op) => structuredClone(op));
  }

  /** Replaces every operation with saved ones; each must name a registered completer. */
  restore(saved: readonly AsyncOperation[]): void {
    for (const op of saved) {
      if (!this.completers.has(op.driver.completion.name)) {
        throw new Error(
          `operation ${op.id}: no completer named '${op.driver.completion.name}' is registered`,
        );
      }
    }
    this.ops.clear();
    for (const op of saved) this.ops.set(op.id.toLowerCase(), structuredClone(op));
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
