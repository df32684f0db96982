/**
 * The polling plan of a build: expected run duration (median of the definition's recent successful runs,
 * else EXPECTED_BUILD_MINUTES), interval floor and ceiling, and the deadline (buildTimeoutInMinutes +
 * DEADLINE_MARGIN_MINUTES) after which the orchestration cancels the run.
 */

import type { PollingPlan } from '../orchestration/build-flow.js';
import { expectedRunSeconds } from '../orchestration/polling-schedule.js';
import { type ActivityDeps, definitionOf, recordsOf } from './deps.js';
import { archiveLocation } from './logs/archive-logs.js';

export const RECENT_BUILDS_FOR_MEDIAN = 5;

export async function pollingPlan(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: { definition: string; buildId: string },
): Promise<PollingPlan> {
  const { config } = deps;
  const def = definitionOf(config, input.definition);
  const recent = await recordsOf(deps).recentSuccessfulDurations(input.definition, RECENT_BUILDS_FOR_MEDIAN);
  const deadlineSeconds = (def.buildTimeoutInMinutes + config.deadlineMarginMinutes) * 60;
  return {
    minIntervalSeconds: config.polling.minIntervalSeconds,
    maxIntervalSeconds: config.polling.maxIntervalSeconds,
    expectedSeconds: Math.min(
      expectedRunSeconds(recent, config.polling.defaultExpectedMinutes),
      deadlineSeconds,
    ),
    deadlineSeconds,
    logLocation: archiveLocation(deps, input.definition, input.buildId),
    grantPropagationTimeoutSeconds: config.grantPropagationTimeoutMinutes * 60,
  };
}
