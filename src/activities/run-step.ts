/**
 * Steps that record their own phase. The orchestration used to call a separate record activity before
 * each step (two more history events per call, and one more replay); a step whose input carries a
 * `record` now writes that patch to the build's row itself, then does its work. A record that cannot be
 * written is logged and does not fail the step (as before: the build must not fail for its record).
 */
import type { BuildRecordPatch, BuildRef } from '../records/build-records.js';
import { type ActivityDeps, recordsOf } from './deps.js';

/** The build row to update and the patch of the phase the step starts. */
export interface PhaseRecord {
  readonly ref: BuildRef;
  readonly patch: BuildRecordPatch;
}

/** A step input that may carry the phase record the step writes first. */
export type Recorded<I> = I & { readonly record?: PhaseRecord | undefined };

/** Writes a phase record; logs (does not throw) when the row cannot be written. */
export async function writePhaseRecord(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  record: PhaseRecord | undefined,
): Promise<void> {
  if (!record) return;
  try {
    await recordsOf(deps).update(record.ref, record.patch);
  } catch (e) {
    deps.log(`build record update failed (phase ${record.patch.phase ?? 'update'}): ${(e as Error).message}`);
  }
}

/** The step `work`, preceded by writing the phase record its input carries (stripped from the input). */
export function recordedStep<D extends Pick<ActivityDeps, 'config' | 'clients' | 'log'>, I, O>(
  work: (deps: D, input: I) => Promise<O>,
): (deps: D, input: Recorded<I>) => Promise<O> {
  return async (deps, input) => {
    const { record, ...rest } = input;
    await writePhaseRecord(deps, record);
    return work(deps, rest as unknown as I);
  };
}
