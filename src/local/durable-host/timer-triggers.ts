/**
 * Timer triggers on the virtual clock: each fires when the clock reaches its next NCRONTAB occurrence (on clock
 * moves in manual mode, on a real timeout in scaled mode) and receives the Functions timer object
 * (`schedule`, `scheduleStatus {last, next, lastUpdated}`, `isPastDue`).
 */
import type { VirtualClock } from '../clock.js';
import type { RegisteredFunction } from './registry.js';
import { parseSchedule, resolveAppSettingReference, type Schedule } from './schedule.js';

export interface TimerFire {
  readonly fn: RegisteredFunction;
  readonly timer: {
    readonly Schedule: { readonly AdjustForDST: boolean };
    readonly ScheduleStatus: { readonly Last: string; readonly Next: string; readonly LastUpdated: string };
    readonly IsPastDue: boolean;
  };
}

interface TimerState {
  readonly fn: RegisteredFunction;
  readonly schedule: Schedule;
  last: number;
  next: number;
}

/** A fire is past due when it runs more than this long (virtual) after its scheduled time... */
const PAST_DUE_MS = 60_000;
/** ...or, in scaled mode, more than this much real time late (the real-time pulse is not a missed run). */
const PAST_DUE_REAL_MS = 500;

export class TimerTriggerScheduler {
  private readonly timers: TimerState[] = [];
  private realTimeout: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly clock: VirtualClock,
    functions: Iterable<RegisteredFunction>,
    private readonly fire: (f: TimerFire) => void,
  ) {
    const now = clock.now();
    for (const fn of functions) {
      if (fn.trigger !== 'timer') continue;
      const raw = resolveAppSettingReference(fn.metadata.schedule ?? '', process.env, `${fn.name}.schedule`);
      const schedule = parseSchedule(raw, `${fn.name}.schedule`);
      this.timers.push({ fn, schedule, last: now, next: schedule.next(now) });
    }
  }

  start(): void {
    for (const t of this.timers) {
      if (t.fn.metadata.runOnStartup) this.fireNow(t, this.clock.now(), t.next);
    }
    this.unsubscribe = this.clock.onAdvance(() => this.check());
    this.armRealTimeout();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.realTimeout) clearTimeout(this.realTimeout);
  }

  /** The timer object for an immediate (manual) run of `name`. */
  manualFire(fn: RegisteredFunction): TimerFire {
    const t = this.timers.find((x) => x.fn === fn);
    const now = this.clock.now();
    const next = t ? t.next : now;
    return { fn, timer: this.timerObject(t?.last ?? now, next, now, false) };
  }

  /** Fires every trigger whose next occurrence is due. */
  check(): void {
    const now = this.clock.now();
    for (const t of this.timers) {
      if (t.next <= now) {
        const scheduledFor = t.next;
        t.next = t.schedule.next(now);
        this.fireNow(t, now, t.next, now - scheduledFor > this.pastDueAfterMs());
        // ScheduleStatus.Last is the occurrence that ran (its scheduled time), as the Functions host keeps it.
        t.last = scheduledFor;
      }
    }
    this.armRealTimeout();
  }

  private pastDueAfterMs(): number {
    const scale = this.clock.scale;
    return scale === undefined ? PAST_DUE_MS : Math.max(PAST_DUE_MS, PAST_DUE_REAL_MS * scale);
  }

  private fireNow(t: TimerState, now: number, next: number, pastDue = false): void {
    const timer = this.timerObject(t.last, next, now, pastDue);
    t.last = now;
    this.fire({ fn: t.fn, timer });
  }

  private timerObject(last: number, next: number, now: number, pastDue: boolean): TimerFire['timer'] {
    return {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: new Date(last).toISOString(),
        Next: new Date(next).toISOString(),
        LastUpdated: new Date(now).toISOString(),
      },
      IsPastDue: pastDue,
    };
  }

  private armRealTimeout(): void {
    if (this.realTimeout) clearTimeout(this.realTimeout);
    this.realTimeout = undefined;
    if (this.clock.isManual || this.timers.length === 0) return;
    const next = Math.min(...this.timers.map((t) => t.next));
    const delay = Math.min(this.clock.realDelayUntil(next), 2 ** 31 - 1);
    this.realTimeout = setTimeout(() => this.check(), delay);
    this.realTimeout.unref();
  }
}
