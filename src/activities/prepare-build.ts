/**
 * The prepare step of a build, one activity instead of six: preflight (every subnet/NSG/region/role
 * requirement; fails permanently, creating nothing) → builder identity → persistent roles → exact source
 * version → polling plan → (unforced builds) the up-to-date check. Everything here is read-only or
 * idempotent, so a transient failure retries the whole step. A failure keeps the code and message of the
 * part that failed (PreflightFailed, BuilderIdentityNotFound, …), classified by the outcome wrapper as before.
 */
import type { PollingPlan } from '../orchestration/build-flow.js';
import { type BuilderIdentity, resolveBuilderIdentity } from './builder-identity.js';
import type { ActivityDeps } from './deps.js';
import { checkUpToDate, type UpToDateCheck } from './last-successful-build.js';
import { pollingPlan } from './polling-plan.js';
import { preflightActivity } from './preflight/run-preflight.js';
import { ensurePersistentRoles } from './roles/persistent-roles.js';
import { resolveSourceVersion } from './source-version.js';

export interface PrepareInput {
  readonly definition: string;
  readonly buildId: string;
  /** A forced build skips the up-to-date check. */
  readonly force?: boolean | undefined;
}

export interface Prepared {
  readonly identity: BuilderIdentity;
  readonly sourceVersion: string;
  readonly plan: PollingPlan;
  /** Set when the build was not forced and the up-to-date check ran. */
  readonly upToDate?: UpToDateCheck | undefined;
}

export async function prepareBuild(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: PrepareInput,
): Promise<Prepared> {
  const { definition, buildId } = input;
  await preflightActivity(deps, { definition });
  const identity = await resolveBuilderIdentity(deps);
  await ensurePersistentRoles(deps, { definition, principalId: identity.principalId });
  const source = await resolveSourceVersion(deps, { definition });
  const plan = await pollingPlan(deps, { definition, buildId });
  const upToDate = input.force
    ? undefined
    : await checkUpToDate(deps, {
        definition,
        buildId,
        sourceVersion: source.version,
        builderIdentityId: identity.id,
      });
  return { identity, sourceVersion: source.version, plan, ...(upToDate ? { upToDate } : {}) };
}
