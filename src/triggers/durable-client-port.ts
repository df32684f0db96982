/** Adapts the real durable-functions `DurableClient` to the BuildOrchestrations port. */
import type { DurableClient } from 'durable-functions';
import { BUILD_ORCHESTRATOR, CANCEL_EVENT } from '../orchestration/contracts.js';
import { type BuildOrchestrations, toRuntimeStatus } from './orchestration-port.js';

/** durable-functions 3.x throws a plain Error for a 404 from the extension ("...replied with HTTP 404 response"). */
function isNotFound(e: unknown): boolean {
  return e instanceof Error && /\bHTTP 404\b/.test(e.message);
}

function iso(d: unknown): string | undefined {
  if (d instanceof Date) return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  return typeof d === 'string' ? d : undefined;
}

export function durableClientPort(client: DurableClient): BuildOrchestrations {
  return {
    async status(instanceId) {
      try {
        const s = await client.getStatus(instanceId, { showInput: true });
        return {
          instanceId: s.instanceId,
          runtimeStatus: toRuntimeStatus(s.runtimeStatus),
          input: s.input,
          customStatus: s.customStatus,
          output: s.output,
          createdTime: iso(s.createdTime),
          lastUpdatedTime: iso(s.lastUpdatedTime),
        };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async start(instanceId, input) {
      await client.startNew(BUILD_ORCHESTRATOR, { instanceId, input });
    },
    async requestCancel(instanceId, reason) {
      await client.raiseEvent(instanceId, CANCEL_EVENT, { reason });
    },
  };
}
