/** The record step: applies one phase update to the build's Table-storage row. */
import type { BuildRecordPatch, BuildRef } from '../records/build-records.js';
import { type ActivityDeps, recordsOf } from './deps.js';

export async function recordBuild(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: { ref: BuildRef; patch: BuildRecordPatch },
): Promise<{ status: string }> {
  const rec = await recordsOf(deps).update(input.ref, input.patch);
  return { status: rec.status };
}
