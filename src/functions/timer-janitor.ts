/**
 * Janitor (JANITOR_SCHEDULE): removes Image Contributor assignments of the builder identity on the
 * destination when no build is running — covers terminated instances and failed revokes.
 * Each sweep is counted by outcome (src/telemetry): a failed sweep may leave a grant behind and alerts.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { builderPrincipalId } from '../activities/builder-identity.js';
import { defaultActivityDeps, recordsOf } from '../activities/deps.js';
import { sweepImageContributor } from '../activities/roles/janitor.js';
import { type BuildInput, type BuildOutput, buildInstanceId } from '../orchestration/contracts.js';
import { JANITOR_TIMER } from '../orchestration/steps.js';
import { emitFreshness, emitJanitorTelemetry } from '../telemetry/build-telemetry.js';
import { contextSink, createLogger } from '../telemetry/logger.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import { isActive } from '../triggers/orchestration-port.js';

app.timer(JANITOR_TIMER, {
  schedule: '%JANITOR_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const logger = createLogger(contextSink(context), { component: 'janitor' });
    const deps = defaultActivityDeps((m) => logger.info(m));
    const orchestrations = durableClientPort(df.getClient(context));
    try {
      const report = await sweepImageContributor(
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
        async (definition) => {
          const s = await orchestrations.status(buildInstanceId(definition));
          if (!s || isActive(s.runtimeStatus) || !s.input) return undefined;
          return {
            input: s.input as BuildInput,
            output: s.runtimeStatus === 'Completed' ? (s.output as BuildOutput | undefined) : undefined,
          };
        },
      );
      if (report.removed.length > 0) {
        logger.warn('janitor removed Image Contributor grants that a build left behind', {
          removed: report.removed.length,
        });
      }
      emitJanitorTelemetry({ outcome: report.skipped ? 'skipped' : 'clean', removed: report.removed.length });
      await emitFreshness(
        deps.config.definitions.map((d) => d.name),
        (definition) => recordsOf(deps).lastSuccessful(definition),
        new Date(),
      );
    } catch (e) {
      logger.error(
        `janitor sweep failed; an Image Contributor grant may still be present: ${(e as Error).message}`,
      );
      emitJanitorTelemetry({ outcome: 'failed', removed: 0, error: (e as Error).name });
      throw e;
    }
  },
});
