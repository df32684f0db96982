/**
 * The control API over HTTP (`{controlEndpoint}/...`), a thin mapping onto the in-process control and
 * state objects. Documented in README.md ("Local Azure: the ARM emulator").
 */
import type { ArmResponse } from './context.js';
import { ArmError } from './errors.js';
import type { FaultSpec } from './faults.js';
import type { ArmEmulatorControl, ArmEmulatorState, ClockView } from './index.js';
import { validatePropagationSpec } from './rbac-propagation.js';

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null)
    throw new ArmError(400, 'InvalidControlRequest', `${what} is required.`);
  return value;
}

function obj(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ArmError(400, 'InvalidControlRequest', 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

export function createControlHandler(
  control: ArmEmulatorControl,
  state: ArmEmulatorState,
  clock: () => ClockView,
) {
  return async (
    method: string,
    path: string,
    query: URLSearchParams,
    rawBody: unknown,
  ): Promise<ArmResponse> => {
    const body = obj(rawBody);
    const key = `${method} ${path.replace(/\/$/, '') || '/'}`;
    try {
      switch (key) {
        case 'GET /clock':
          return { status: 200, body: clock() };
        case 'POST /clock': {
          if (body.advanceBySeconds !== undefined) control.advanceClock(Number(body.advanceBySeconds));
          if (body.advanceTo !== undefined) control.advanceClockTo(Date.parse(String(body.advanceTo)));
          if ('scale' in body) control.setTimeScale(body.scale === null ? undefined : Number(body.scale));
          return { status: 200, body: clock() };
        }
        case 'GET /state':
          return {
            status: 200,
            body: {
              imageTemplates: state.imageTemplates(),
              roleAssignments: state.roleAssignments(),
              images: state.images(),
              galleryImageVersions: state.galleryImageVersions(),
              identities: state.identities(),
              rbacPropagation: state.rbacPropagation(),
              requestCount: state.requests().length,
            },
          };
        case 'GET /resources':
          return { status: 200, body: { value: state.resources(query.get('type') ?? undefined) } };
        case 'GET /requests':
          return { status: 200, body: { value: state.requests() } };
        case 'POST /seed':
          control.seed(body as never);
          return { status: 200, body: { seeded: true } };
        case 'POST /marketplace':
          return {
            status: 200,
            body: {
              versions: control.publishImageVersion({
                publisher: String(need(body.publisher, 'publisher')),
                offer: String(need(body.offer, 'offer')),
                sku: String(need(body.sku, 'sku')),
                version: String(need(body.version, 'version')),
              }),
            },
          };
        case 'POST /principals':
          control.addPrincipal(String(need(body.objectId, 'objectId')));
          return { status: 200, body: { added: true } };
        case 'GET /faults':
          return { status: 200, body: { value: control.faults() } };
        case 'POST /faults':
          return { status: 201, body: control.injectFault(body as unknown as FaultSpec) };
        case 'DELETE /faults':
          control.clearFaults();
          return { status: 204 };
        case 'PUT /build-behaviour':
          return { status: 200, body: control.setBuildBehaviour(body as never) };
        case 'PUT /throttling':
          return { status: 200, body: control.setThrottling(body as never) };
        case 'PUT /timing':
          return { status: 200, body: control.setTiming(body as never) };
        case 'GET /rbac':
          return { status: 200, body: state.rbacPropagation() };
        case 'PUT /rbac':
          control.setRbacPropagation(
            validatePropagationSpec(
              need(body.propagationSeconds, 'propagationSeconds'),
              'propagationSeconds',
            ),
          );
          return { status: 200, body: state.rbacPropagation() };
        case 'PUT /template-creation':
          if (typeof body.hold !== 'boolean')
            throw new ArmError(400, 'InvalidControlRequest', 'hold must be true or false.');
          return { status: 200, body: control.holdTemplateCreation(body.hold) };
        case 'PUT /caller-authorization':
          control.setCallerAuthorization(body.enabled === true);
          return { status: 200, body: { enabled: body.enabled === true } };
        case 'POST /reset':
          control.reset();
          return { status: 200, body: { reset: true } };
        default:
          throw new ArmError(
            404,
            'UnknownControlOperation',
            `No control operation '${key}'. See the README section "ARM emulator" for the list.`,
          );
      }
    } catch (e) {
      if (e instanceof ArmError) throw e;
      throw new ArmError(400, 'InvalidControlRequest', e instanceof Error ? e.message : String(e));
    }
  };
}
