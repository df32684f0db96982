/** BUILD_ORCHESTRATOR: one build of one image definition (the flow lives in src/orchestration/build-flow.ts). */
import * as df from 'durable-functions';
import { buildFlow } from '../orchestration/build-flow.js';
import { BUILD_ORCHESTRATOR, type BuildInput } from '../orchestration/contracts.js';
import type { OrchestrationPort } from '../orchestration/durable-port.js';
import { contextSink, createLogger } from '../telemetry/logger.js';

const handler: df.OrchestrationHandler = function* (context) {
  const port = context.df as unknown as OrchestrationPort;
  const input = context.df.getInput() as Partial<BuildInput> | undefined;
  const sink = contextSink(context);
  // Leveled and correlated by build id; silent while replaying (each line is written once).
  const logger = createLogger(
    { write: (r) => (context.df.isReplaying ? undefined : sink.write(r)) },
    { buildId: input?.buildId, definition: input?.definition },
  );
  return yield* buildFlow(port, logger) as unknown as Generator<df.Task, unknown, unknown>;
};

df.app.orchestration(BUILD_ORCHESTRATOR, handler);
