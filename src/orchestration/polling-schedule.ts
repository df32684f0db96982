/**
 * Adaptive polling schedule for an Image Builder run (pure, deterministic: the orchestrator calls it with
 * times taken from its replay-safe clock).
 *
 * - The first poll comes after a fraction of the expected duration (nothing useful happens earlier; the
 *   ceiling does not apply to it, the deadline does).
 * - Later intervals are a quarter of the distance to the expected end, so they shrink toward it, and grow
 *   again if the build overruns; always within [floor, ceiling].
 * - While Distributing (the end is near, and Image Builder checks the Image Contributor grant again there) polls are dense.
 * - No poll is scheduled past the deadline: the last one lands on it.
 */

export interface PollingPolicy {
  /** Floor of an interval (seconds), e.g. 30. */
  readonly minIntervalSeconds: number;
  /** Ceiling of an interval (seconds), e.g. 300. */
  readonly maxIntervalSeconds: number;
  /** Expected run duration (seconds): median of recent successful runs, or the default. */
  readonly expectedSeconds: number;
  /** Seconds after the run start at which the orchestration gives up and cancels. */
  readonly deadlineSeconds: number;
}

/** Fraction of the expected duration before the first poll. */
export const FIRST_POLL_FRACTION = 0.3;
/** Divisor of the distance to the expected end. */
const APPROACH_DIVISOR = 4;

export interface PollState {
  /** Seconds since the run was started. */
  readonly elapsedSeconds: number;
  /** runSubState from the last poll, if any poll happened yet. */
  readonly runSubState?: string | undefined;
  /** True before the first poll. */
  readonly firstPoll: boolean;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Seconds to wait before the next poll (whole seconds, >= 1), or 0 when the deadline has passed
 * (the caller cancels).
 */
export function nextPollDelaySeconds(policy: PollingPolicy, state: PollState): number {
  validatePolicy(policy);
  const untilDeadline = policy.deadlineSeconds - state.elapsedSeconds;
  if (untilDeadline <= 0) return 0;
  let delay: number;
  if (state.firstPoll) {
    delay = Math.max(
      policy.minIntervalSeconds,
      policy.expectedSeconds * FIRST_POLL_FRACTION - state.elapsedSeconds,
    );
  } else if (state.runSubState === 'Distributing') {
    delay = policy.minIntervalSeconds;
  } else {
    const distance = Math.abs(policy.expectedSeconds - state.elapsedSeconds);
    delay = clamp(distance / APPROACH_DIVISOR, policy.minIntervalSeconds, policy.maxIntervalSeconds);
  }
  return Math.max(1, Math.ceil(Math.min(delay, untilDeadline)));
}

export function validatePolicy(policy: PollingPolicy): void {
  const bad = (field: keyof PollingPolicy, why: string) => {
    throw new RangeError(`polling policy ${field} ${why} (got ${policy[field]})`);
  };
  for (const f of [
    'minIntervalSeconds',
    'maxIntervalSeconds',
    'expectedSeconds',
    'deadlineSeconds',
  ] as const) {
    if (!Number.isFinite(policy[f]) || policy[f] <= 0) bad(f, 'must be a positive number of seconds');
  }
  if (policy.minIntervalSeconds > policy.maxIntervalSeconds)
    bad('minIntervalSeconds', 'must not exceed maxIntervalSeconds');
}

/** Median of positive durations (seconds), or undefined when there are none. */
export function medianSeconds(durations: readonly number[]): number | undefined {
  const xs = durations.filter((d) => Number.isFinite(d) && d > 0).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Expected run duration: the median of recent successful runs, else the configured default. */
export function expectedRunSeconds(recentDurations: readonly number[], defaultMinutes: number): number {
  return medianSeconds(recentDurations) ?? defaultMinutes * 60;
}
