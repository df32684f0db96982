/** POLL_RUN_ORCHESTRATOR: polls an Image Builder run on the adaptive schedule (sub-orchestration of a build). */
import * as df from 'durable-functions';
import type { OrchestrationPort } from '../orchestration/durable-port.js';
import { pollRunFlow } from '../orchestration/poll-run.js';
import { POLL_RUN_ORCHESTRATOR } from '../orchestration/steps.js';

const handler: df.OrchestrationHandler = function* (context) {
  return yield* pollRunFlow(context.df as unknown as OrchestrationPort) as unknown as Generator<
    df.Task,
    unknown,
    unknown
  >;
};

df.app.orchestration(POLL_RUN_ORCHESTRATOR, handler);
