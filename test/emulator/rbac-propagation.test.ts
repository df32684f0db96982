/**
 * Role assignments are eventually consistent, and Image Builder checks its identity's rights when a run
 * is invoked. Through the real SDK clients and the HTTP control API.
 *
 * Sources:
 * - "When you assign roles or remove role assignments, it can take up to 10 minutes for changes to take
 *   effect": https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected
 * - a Run without write on the distribution target fails with "Not authorized to access the resource …
 *   Please check the user assigned identity has the correct permissions":
 *   https://github.com/MicrosoftDocs/azure-docs/issues/99193 (az CLI prefixes it with "Deployment failed.
 *   Correlation ID", its wording for a failed long-running operation) and
 *   https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RbacPropagation } from '../../src/local/arm-emulator/rbac-propagation.js';
import { useEmulator } from '../support/emulator.js';
import {
  controlCall,
  FAST,
  GENERIC_CREATE_FAILURE,
  grantImageContributor,
  newBuilderIdentity,
  notAuthorized,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

describe('role assignment propagation (virtual clock)', () => {
  const harness = useEmulator();
  afterEach(async () => {
    await controlCall(harness(), 'PUT', '/rbac', { propagationSeconds: 0 });
  });

  it('shows a new grant at once but authorizes with it only after the delay; POST /clock moves past it', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    expect((await controlCall(h, 'PUT', '/rbac', { propagationSeconds: 300 })).status).toBe(200);
    const startMs = h.clock.now();
    const identity = await newBuilderIdentity(h); // + Network Joiner on the vnet, not yet effective
    const vnet = h.appSettings.BUILD_SUBNET_ID!.replace(/\/subnets\/[^/]+$/, '');
    const listed = [];
    for await (const a of h.clients.authorization.roleAssignments.listForScope(vnet, {
      filter: `principalId eq '${identity.principalId}'`,
    }))
      listed.push(a);
    expect(listed).toHaveLength(1); // ARM reads show the write at once
    const rbac = (await controlCall(h, 'GET', '/rbac')).body as {
      pending: { change: string; principalId: string; effectiveAtMs: number; effectiveAt: string }[];
    };
    const pending = rbac.pending.find((p) => p.principalId === identity.principalId);
    expect(pending).toMatchObject({ change: 'create', effectiveAtMs: startMs + 300_000 });
    expect(
      h.emulator.state.roleAssignments().find((a) => a.principalId === identity.principalId)?.effectiveAt,
    ).toBe(new Date(startMs + 300_000).toISOString());

    const early = `t-${randomUUID().slice(0, 8)}`;
    await expect(
      ib.createOrUpdate(rg, early, templateBody(h, identity.id!, `img-${early}`), FAST).pollUntilDone(),
    ).rejects.toThrow(GENERIC_CREATE_FAILURE);
    expect((await ib.get(rg, early)).provisioningError?.message).toBe(
      notAuthorized(h.appSettings.BUILD_SUBNET_ID!),
    );

    const moved = await controlCall(h, 'POST', '/clock', { advanceBySeconds: 300 });
    expect((moved.body as { nowMs: number }).nowMs).toBe(startMs + 300_000);
    expect(((await controlCall(h, 'GET', '/rbac')).body as { pending: unknown[] }).pending).toEqual([]);
    const late = `t-${randomUUID().slice(0, 8)}`;
    const created = await ib
      .createOrUpdate(rg, late, templateBody(h, identity.id!, `img-${late}`), FAST)
      .pollUntilDone();
    expect(created.provisioningState).toBe('Succeeded');
  });

  it('refuses a Run at once while the Image Contributor grant has not propagated; no build starts', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    const body = templateBody(h, identity.id!, `img-${name}`);
    await ib.createOrUpdate(rg, name, body, FAST).pollUntilDone();
    await controlCall(h, 'PUT', '/rbac', { propagationSeconds: 120 });
    await grantImageContributor(h, identity.principalId!);
    const imageId = (body.distribute![0] as { imageId: string }).imageId;

    // The POST is accepted (202); the operation has already failed when first polled.
    const poller = ib.run(rg, name, FAST);
    await poller.submitted();
    await expect(poller.pollUntilDone()).rejects.toThrow(
      `The long-running operation has failed. Unauthorized. ${notAuthorized(imageId)}`,
    );
    const after = await ib.get(rg, name);
    expect(after.lastRunStatus).toBeUndefined();
    expect(h.emulator.state.imageTemplate(name)?.runs).toEqual([]);

    h.clock.advanceBy(120_000);
    await ib.run(rg, name, FAST).submitted();
    expect((await ib.get(rg, name)).lastRunStatus?.runState).toBe('Running');
    expect((await pollUntilTerminal(h, rg, name)).template.lastRunStatus?.runState).toBe('Succeeded');
  });

  it('keeps authorizing with a revoked grant until the delay passes (a Run starts, distribution then fails)', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    await grantImageContributor(h, identity.principalId!);
    const name = `t-${randomUUID().slice(0, 8)}`;
    await ib.createOrUpdate(rg, name, templateBody(h, identity.id!, `img-${name}`), FAST).pollUntilDone();
    await controlCall(h, 'PUT', '/rbac', { propagationSeconds: { min: 90, max: 90 } });
    const grant = h.emulator.state
      .roleAssignments()
      .find((a) => a.principalId === identity.principalId && a.roleName?.includes('Image Contributor'))!;
    await h.clients.authorization.roleAssignments.delete(grant.scope, grant.name);
    await expect(h.clients.authorization.roleAssignments.get(grant.scope, grant.name)).rejects.toMatchObject({
      statusCode: 404,
    });
    const pending = (await controlCall(h, 'GET', '/rbac')).body as {
      pending: { change: string; id: string }[];
    };
    expect(pending.pending.map((p) => p.change)).toEqual(['delete']);

    // Still effective: the run starts; 43 simulated minutes later, distribution finds no right.
    await ib.run(rg, name, FAST).submitted();
    const { template, seen } = await pollUntilTerminal(h, rg, name);
    expect(seen[0]).toBe('Running/Queued');
    expect(seen.at(-1)).toBe('Failed/Distributing');
    expect(template.lastRunStatus?.message).toContain('Microsoft.Compute/images/write');
  });

  it('rejects a bad propagation setting with 400 naming the field', async () => {
    const h = harness();
    const r = await controlCall(h, 'PUT', '/rbac', { propagationSeconds: { min: 10, max: 5 } });
    expect(r.status).toBe(400);
    expect((r.body as { error: { message: string } }).error.message).toMatch(
      /^propagationSeconds must be a number of seconds >= 0 or \{"min": S, "max": S\}/,
    );
  });
});

describe('RbacPropagation delays (property)', () => {
  it('draws every delay within [min, max], the same sequence for the same seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 600 }),
        (seed, a, b) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const draw = () => {
            const p = new RbacPropagation(() => 0);
            p.configure({ min, max }, seed);
            return Array.from({ length: 20 }, () => p.drawDelayMs());
          };
          const first = draw();
          expect(draw()).toEqual(first);
          // Simulated delays, in seconds of the virtual clock.
          for (const drawnSeconds of first.map((d) => d / 1000)) {
            expect(drawnSeconds).toBeGreaterThanOrEqual(min);
            expect(drawnSeconds).toBeLessThanOrEqual(max);
          }
        },
      ),
    );
  });

  it('a grant deleted before it took effect never authorizes', () => {
    let now = 0;
    const p = new RbacPropagation(() => now);
    p.configure(100);
    const body = { properties: { principalId: 'p', scope: '/s' } };
    p.created('/s/a', body);
    now = 50;
    p.deleted('/s/a', body);
    expect(p.lingering()).toEqual([]);
    now = 150;
    expect(p.lingering()).toEqual([]);
  });
});
