/**
 * The part of the Durable Functions orchestration context the build flow uses. The real `context.df`
 * satisfies it (src/functions passes it in); keeping the flow behind this port keeps src/orchestration
 * free of host imports. Tasks are opaque: the flow only yields them and compares identities.
 */
export type DurableTask = object;

export interface OrchestrationPort {
  readonly instanceId: string;
  /** Replay-safe current time (the only clock the flow reads). */
  readonly currentUtcDateTime: Date;
  readonly isReplaying: boolean;
  getInput(): unknown;
  callActivity(name: string, input?: unknown): DurableTask;
  callSubOrchestrator(name: string, input?: unknown, instanceId?: string): DurableTask;
  createTimer(fireAt: Date): DurableTask;
  waitForExternalEvent(name: string): DurableTask;
  setCustomStatus(status: unknown): void;
  /**
   * Ends this execution and starts the instance again with `input` and an empty history (the orchestrator
   * returns right after calling it; the return value is ignored).
   */
  continueAsNew(input: unknown): void;
  readonly Task: {
    any(tasks: DurableTask[]): DurableTask;
  };
}

/** A generator the orchestrator function runs: yields tasks, receives their results. */
export type Flow<T> = Generator<DurableTask, T, unknown>;
