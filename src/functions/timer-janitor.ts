/**
 * Janitor (JANITOR_SCHEDULE): removes Image Contributor assignments of the builder identity on the
 * destination when no build is running — covers terminated instances and failed revokes.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { builderPrincipalId } from '../activities/builder-identity.js';
import { defaultActivityDeps } from '../activities/deps.js';
import { sweepImageContributor } from '../activities/roles/janitor.js';
import { JANITOR_TIMER } from '../orchestration/activity-names.js';
import { type BuildOutput, buildInstanceId } from '../orchestration/contracts.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import { isActive } from '../triggers/orchestration-port.js';

app.timer(JANITOR_TIMER, {
  schedule: '%JANITOR_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const deps = defaultActivityDeps((m) => context.log(m));
    const orchestrations = durableClientPort(df.getClient(context));
    await sweepImageContributor(
      deps,
      async (definition) => {
        const s = await orchestrations.status(buildInstanceId(definition));
        return s !== undefined && isActive(s.runtimeStatus);
      },
      () => builderPrincipalId(deps),
      async (definition) => {
        const s = await orchestrations.status(buildInstanceId(definition));
        return s?.runtimeStatus === 'Completed' ? (s.output as BuildOutput | undefined) : undefined;
      },
    );
  },
});
