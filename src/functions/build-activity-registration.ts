/**
 * Registers one build activity: production dependencies (settings, identity-based clients, the
 * invocation's logger) and the outcome wrapper that turns failures into classified data.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { type ActivityDeps, defaultActivityDeps } from '../activities/deps.js';
import { toOutcome } from '../activities/outcome.js';

export function registerBuildActivity<I, O>(
  name: string,
  work: (deps: ActivityDeps, input: I) => Promise<O>,
): void {
  df.app.activity(name, {
    handler: (input: unknown, context: InvocationContext) =>
      toOutcome(() =>
        work(
          defaultActivityDeps((m) => context.log(m)),
          input as I,
        ),
      ),
  });
}
