/**
 * The start delay a fleet build waits before its first step (BuildInput.startDelaySeconds, set by the
 * monthly rebuild: src/triggers/fleet-start-spread.ts). A durable timer on the orchestration's clock, so
 * the wait is deterministic in replay and costs no worker while it lasts.
 */
import type { BuildInput } from './contracts.js';
import type { Flow, OrchestrationPort } from './durable-port.js';

/** Longest accepted delay (the setting's range: 240 minutes). */
export const MAX_START_DELAY_SECONDS = 240 * 60;

export function* waitForStartSlot(df: OrchestrationPort, input: BuildInput): Flow<void> {
  const delay = input.startDelaySeconds;
  if (delay === undefined || delay === 0) return;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_START_DELAY_SECONDS)
    throw new Error(
      `BuildInput.startDelaySeconds must be a whole number of seconds from 0 to ${MAX_START_DELAY_SECONDS}, got ${delay}`,
    );
  yield df.createTimer(new Date(df.currentUtcDateTime.getTime() + delay * 1000));
}
