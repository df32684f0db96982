/**
 * A run that fails (or is refused) before Image Builder updates lastRunStatus leaves the previous run's
 * status in place: the status read compares lastRunStatus.startTime with the one seen before the run was
 * requested, so the previous run's Succeeded is never taken for this run's. The Image Builder client is
 * reduced to the template read (REST shape of lastRunStatus).
 */
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import {
  getRunStatus,
  isAuthorizationRefusal,
  refusalAsGrantNotEffective,
} from '../../src/activities/run/image-run.js';
import { ClassifiedError } from '../../src/azure/errors.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-02T00:00:00.000Z');

function deps(
  lastRunStatus: Record<string, unknown> | undefined,
): Pick<ActivityDeps, 'config' | 'clients' | 'log'> {
  return {
    config: { resourceGroups: { imageBuilder: 'rg' } } as ActivityDeps['config'],
    clients: {
      imageBuilder: {
        virtualMachineImageTemplates: {
          get: async () => ({ lastRunStatus }),
          async *listRunOutputs() {
            yield { artifactId: '/images/new', provisioningState: 'Succeeded' };
          },
        },
      },
    } as unknown as ActivityDeps['clients'],
    log: () => {},
  };
}

describe('getRunStatus tells this run from the previous one', () => {
  it("the previous run's Succeeded (same startTime) is not this run's: still running, no artifacts", async () => {
    const s = await getRunStatus(
      deps({ runState: 'Succeeded', runSubState: 'Distributing', startTime: T0 }),
      {
        templateName: 't',
        previousRunStartTime: T0.toISOString(),
        requestedAt: T1.toISOString(),
      },
    );
    expect(s).toMatchObject({ runState: 'Running', stale: true, artifactIds: [] });
  });

  it('a template that never ran before: no lastRunStatus yet is not an answer either', async () => {
    const s = await getRunStatus(deps(undefined), { templateName: 't', requestedAt: T1.toISOString() });
    expect(s).toMatchObject({ runState: 'Running', stale: true });
  });

  it("a new startTime is this run's status, with its outputs once it succeeded", async () => {
    const s = await getRunStatus(
      deps({ runState: 'Succeeded', runSubState: 'Distributing', startTime: T1 }),
      {
        templateName: 't',
        previousRunStartTime: T0.toISOString(),
        requestedAt: T1.toISOString(),
      },
    );
    expect(s).toMatchObject({ runState: 'Succeeded', artifactIds: ['/images/new'] });
    expect(s.stale).toBeUndefined();
  });
});

describe('authorization refusals become GrantNotEffective', () => {
  it.each([
    [
      'Unauthorized',
      'Not authorized to access the resource /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/x. Please check the user assigned identity has the correct permissions.',
    ],
    [
      'AuthorizationFailed',
      "The client 'x' does not have authorization to perform action 'Microsoft.Compute/images/write'",
    ],
  ])('%s', (code, message) => {
    expect(isAuthorizationRefusal(code, message)).toBe(true);
    const e = refusalAsGrantNotEffective(Object.assign(new Error(message), { code, statusCode: 403 }));
    expect(e).toBeInstanceOf(ClassifiedError);
    expect((e as ClassifiedError).failure.code).toBe('GrantNotEffective');
  });

  it('other failures keep their classification', () => {
    const original = Object.assign(new Error('busy'), { code: 'ServerBusy', statusCode: 503 });
    expect(refusalAsGrantNotEffective(original)).toBe(original);
    expect(isAuthorizationRefusal('InvalidTemplateState', 'provisioning state Failed')).toBe(false);
  });
});
