/**
 * The emulator's state on disk (`startArmEmulator({ stateFile })`, used by `npm run local -- --state DIR`):
 * resources, asynchronous operations, Image Builder templates and runs, role assignment propagation,
 * settings and faults, as one JSON document.
 *
 * Saved synchronously before every response and after every clock-driven change, written to a temporary
 * file and renamed over the old one, so a process killed at any moment leaves either the previous or the
 * new state, never half of one. A client never sees an answer whose state is not on disk: after a
 * restart, every operation URL, run and role assignment it was told about is still there. A save made
 * just before a clock-driven change may lag behind it; the restored emulator applies that change again
 * on its first tick (run events are a pure function of the saved plan and the clock).
 *
 * Not saved: the recorded exchanges (`--record FILE` keeps its own file) and the throttle's token
 * counts (the buckets start full, as they would have refilled while the process was down).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../write-atomic.js';
import type { ImageBuilderService, ImageBuilderSnapshot } from './aib/image-templates.js';
import type { ContextSnapshot, EmulatorContext } from './context.js';
import type { FaultInjector, FaultSnapshot } from './faults.js';
import type { AsyncOperation } from './operations.js';
import type { RbacPropagationSnapshot } from './rbac-propagation.js';
import type { StoredResource } from './store.js';
import type { SubscriptionThrottle, ThrottleSettings } from './throttle.js';

/** Bumped when the shape changes; a file of another version is refused, not guessed at. */
export const EMULATOR_STATE_VERSION = 1;

export interface EmulatorSnapshot {
  readonly version: number;
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** Virtual time of the save (ISO 8601), for people reading the file. */
  readonly savedAt: string;
  readonly context: ContextSnapshot;
  readonly resources: readonly StoredResource[];
  readonly operations: readonly AsyncOperation[];
  readonly rbac: RbacPropagationSnapshot;
  readonly imageBuilder: ImageBuilderSnapshot;
  readonly faults: FaultSnapshot;
  readonly throttle: ThrottleSettings;
}

/** The parts of one emulator that hold state. */
export interface EmulatorParts {
  readonly ctx: EmulatorContext;
  readonly service: ImageBuilderService;
  readonly faults: FaultInjector;
  readonly throttle: SubscriptionThrottle;
}

export function captureEmulatorState(p: EmulatorParts): EmulatorSnapshot {
  return {
    version: EMULATOR_STATE_VERSION,
    subscriptionId: p.ctx.subscriptionId,
    tenantId: p.ctx.tenantId,
    savedAt: p.ctx.isoNow(),
    context: p.ctx.snapshot(),
    resources: p.ctx.store.snapshot(),
    operations: p.ctx.operations.snapshot(),
    rbac: p.ctx.rbac.snapshot(),
    imageBuilder: p.service.snapshot(),
    faults: p.faults.snapshot(),
    throttle: p.throttle.current(),
  };
}

/** Puts a saved state into a freshly started emulator (instead of seeding its scenario). */
export function restoreEmulatorState(p: EmulatorParts, s: EmulatorSnapshot): void {
  if (s.subscriptionId.toLowerCase() !== p.ctx.subscriptionId.toLowerCase()) {
    throw new Error(
      `the saved emulator state is of subscription ${s.subscriptionId}, the scenario's is ${p.ctx.subscriptionId}; use the scenario the state was made with, or another state directory`,
    );
  }
  p.ctx.restore(s.context);
  p.ctx.store.restore(s.resources);
  // Operations first: restoring the templates refers to them by id.
  p.ctx.operations.restore(s.operations);
  p.ctx.rbac.restore(s.rbac);
  p.service.restore(s.imageBuilder);
  p.faults.restore(s.faults);
  p.throttle.reset();
  p.throttle.configure(s.throttle);
}

/** One state file: load once at start, save often (a save that changes nothing writes nothing). */
export class EmulatorStateFile {
  /** The last saved or loaded content without `savedAt` (which moves with the clock on every save). */
  private lastKey: string | undefined;

  constructor(readonly path: string) {}

  /** The saved state, or undefined when there is no file yet. Throws naming the file on a bad one. */
  load(): EmulatorSnapshot | undefined {
    if (!existsSync(this.path)) return undefined;
    const text = readFileSync(this.path, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(
        `${this.path}: the emulator state is not valid JSON (${e instanceof Error ? e.message : String(e)}); delete the file to start from the scenario again`,
      );
    }
    const version = (parsed as { version?: unknown } | null)?.version;
    if (version !== EMULATOR_STATE_VERSION) {
      throw new Error(
        `${this.path}: emulator state version ${JSON.stringify(version)} is not ${EMULATOR_STATE_VERSION}, the version this emulator reads; delete the file to start from the scenario again`,
      );
    }
    const snapshot = parsed as EmulatorSnapshot;
    this.lastKey = contentKey(snapshot);
    return snapshot;
  }

  /** Writes the state atomically (write-atomic.ts: temporary file, fsync, rename), owner-only, unless unchanged. */
  save(snapshot: EmulatorSnapshot): boolean {
    const key = contentKey(snapshot);
    if (key === this.lastKey) return false;
    writeFileAtomic(this.path, JSON.stringify(snapshot));
    this.lastKey = key;
    return true;
  }
}

function contentKey(snapshot: EmulatorSnapshot): string {
  const { savedAt: _movesWithTheClock, ...content } = snapshot;
  return JSON.stringify(content);
}
