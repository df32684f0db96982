/**
 * The virtual clock shared by the local stand-ins (ARM emulator, local Durable host).
 *
 * Two modes:
 * - manual: time moves only when told (advanceTo / advanceBy); the Durable host jumps to the next due
 *   timer when nothing is running, so a 40-minute build takes well under a second;
 * - scaled: time flows from a base at `scale` simulated seconds per real second (live demos).
 * Listeners are told after every move so that state machines can catch up.
 */
export type ClockListener = (nowMs: number) => void;

export class VirtualClock {
  private baseVirtual: number;
  private baseReal: number;
  private scaleFactor: number | undefined;
  private readonly listeners = new Set<ClockListener>();

  /** @param startMs virtual start time (ms since epoch); @param scale undefined = manual mode. */
  constructor(startMs: number = Date.UTC(2026, 0, 1, 0, 0, 0), scale?: number) {
    this.baseVirtual = startMs;
    this.baseReal = Date.now();
    this.scaleFactor = scale;
  }

  /** Current virtual time, ms since epoch. */
  now(): number {
    if (this.scaleFactor === undefined) return this.baseVirtual;
    return this.baseVirtual + (Date.now() - this.baseReal) * this.scaleFactor;
  }

  nowDate(): Date {
    return new Date(this.now());
  }

  get scale(): number | undefined {
    return this.scaleFactor;
  }

  get isManual(): boolean {
    return this.scaleFactor === undefined;
  }

  /** Switches mode, keeping the current virtual time. */
  setScale(scale: number | undefined): void {
    const now = this.now();
    this.baseVirtual = now;
    this.baseReal = Date.now();
    this.scaleFactor = scale;
  }

  /** Moves time forward to `ms` (never backwards). */
  advanceTo(ms: number): void {
    const now = this.now();
    if (ms <= now) return;
    this.baseVirtual = ms;
    this.baseReal = Date.now();
    this.emit();
  }

  advanceBy(ms: number): void {
    if (ms > 0) this.advanceTo(this.now() + ms);
  }

  /** Real milliseconds until virtual time `ms` in scaled mode (Infinity in manual mode). */
  realDelayUntil(ms: number): number {
    if (this.scaleFactor === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(0, (ms - this.now()) / this.scaleFactor);
  }

  onAdvance(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const now = this.now();
    for (const l of this.listeners) l(now);
  }
}
