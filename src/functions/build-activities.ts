/**
 * Registers every build step of the registry (src/orchestration/steps.ts) as an activity: production
 * dependencies (settings, identity-based clients, the invocation's logger) and the outcome wrapper that
 * turns failures into classified data. The steps themselves know nothing of the Functions host.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { defaultActivityDeps } from '../activities/deps.js';
import { toOutcome } from '../activities/outcome.js';
import { ALL_STEPS, type AnyStep } from '../orchestration/steps.js';

function registerStep(step: AnyStep): void {
  df.app.activity(step.name, {
    handler: (input: unknown, context: InvocationContext) =>
      toOutcome(() =>
        step.run(
          defaultActivityDeps((m) => context.log(m)),
          input,
        ),
      ),
  });
}

for (const step of ALL_STEPS) registerStep(step);
