/** BUILD_ORCHESTRATOR: one build of one image definition (the flow lives in src/orchestration/build-flow.ts). */
import * as df from 'durable-functions';
import { buildFlow } from '../orchestration/build-flow.js';
import { BUILD_ORCHESTRATOR } from '../orchestration/contracts.js';
import type { OrchestrationPort } from '../orchestration/durable-port.js';

const handler: df.OrchestrationHandler = function* (context) {
  const port = context.df as unknown as OrchestrationPort;
  return yield* buildFlow(port, (m) => {
    if (!context.df.isReplaying) context.log(m);
  }) as unknown as Generator<df.Task, unknown, unknown>;
};

df.app.orchestration(BUILD_ORCHESTRATOR, handler);
