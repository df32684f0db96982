/** Operation-status resources behind `Azure-AsyncOperation` and `Location` headers, for every namespace. */
import type { ArmResponse, EmulatorContext } from '../context.js';
import { ArmError } from '../errors.js';
import { operationStatusBody } from '../operations.js';
import { type Route, route } from '../router.js';
import { requireSubscription, retryAfterHeader } from './common.js';

function findOperation(ctx: EmulatorContext, subscriptionId: string, operationId: string) {
  requireSubscription(ctx, subscriptionId);
  const op = ctx.operations.get(operationId);
  if (!op) {
    throw new ArmError(404, 'OperationNotFound', `The operation '${operationId}' could not be found.`);
  }
  return ctx.operations.observe(op);
}

export const operationRoutes: readonly Route[] = [
  route('GET', '/subscriptions/{}/providers/{}/locations/{}/operations/{}', (ctx, _req, [sub, , , id]) => {
    const op = findOperation(ctx, sub!, id!);
    return {
      status: 200,
      headers: op.status === 'InProgress' ? retryAfterHeader(ctx) : {},
      body: operationStatusBody(op, ctx.subscriptionId),
    };
  }),
  route(
    'GET',
    '/subscriptions/{}/providers/{}/locations/{}/operationResults/{}',
    (ctx, req, [sub, , , id]): ArmResponse => {
      const op = findOperation(ctx, sub!, id!);
      if (op.status === 'InProgress') {
        return {
          status: 202,
          headers: {
            Location: ctx.operationResultUrl(op.namespace, op.location, op.id, req.apiVersion),
            ...retryAfterHeader(ctx),
          },
        };
      }
      if (op.status === 'Succeeded') return { status: 204 };
      const error = op.error ?? { code: op.status, message: `The operation ended with status ${op.status}.` };
      throw new ArmError(
        error.code === 'Conflict' ? 409 : 400,
        error.code,
        error.message,
        error.details ?? [],
      );
    },
  ),
];
