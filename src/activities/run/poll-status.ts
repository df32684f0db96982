/**
 * One poll of a run, recording what it saw: reads the run's status (getRunStatus) and, when the run state
 * or sub-state differs from what the poller saw last (or the input carries a phase patch), writes it to the
 * build's row. The build record follows the run without the orchestration calling a record activity.
 */
import type { BuildRecordPatch, BuildRef } from '../../records/build-records.js';
import type { ActivityDeps } from '../deps.js';
import { writePhaseRecord } from '../run-step.js';
import { getRunStatus, type RunHandle, type RunStatus } from './image-run.js';

export interface PollStatusInput {
  readonly run: RunHandle;
  /** The build row; without it nothing is recorded. */
  readonly ref?: BuildRef | undefined;
  /** Written with the first change (e.g. the `polling` phase and its timestamp). */
  readonly patch?: BuildRecordPatch | undefined;
  readonly lastRunState?: string | undefined;
  readonly lastSubState?: string | undefined;
}

export async function pollRunStatus(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: PollStatusInput,
): Promise<RunStatus> {
  const status = await getRunStatus(deps, input.run);
  const changed = status.runState !== input.lastRunState || status.runSubState !== input.lastSubState;
  if (input.ref && (changed || input.patch)) {
    await writePhaseRecord(deps, {
      ref: input.ref,
      patch: {
        ...input.patch,
        ...(status.runState !== undefined ? { runState: status.runState } : {}),
        ...(status.runSubState !== undefined ? { runSubState: status.runSubState } : {}),
      },
    });
  }
  return status;
}
