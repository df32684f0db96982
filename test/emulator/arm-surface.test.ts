/**
 * The ARM surface other than Image Builder, through the real SDK clients: resource groups, role
 * assignments and definitions, managed identities, network reads/writes, compute images and galleries,
 * marketplace versions, and ARM-wide behaviour (api-version, errors, headers).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { armRequest, useEmulator } from '../support/emulator.js';

describe('ARM emulator surface (real SDK clients)', () => {
  const harness = useEmulator();
  const sub = () => harness().emulator.subscriptionId;

  it('creates and reads resource groups through raw ARM, with ARM errors for missing ones', async () => {
    const h = harness();
    const name = `rg-${randomUUID().slice(0, 8)}`;
    const path = `/subscriptions/${sub()}/resourcegroups/${name}?api-version=2021-04-01`;
    const created = await armRequest(h, 'PUT', path, { location: 'eastus2', tags: { purpose: 'test' } });
    expect(created.status).toBe(201);
    expect(created.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers['x-ms-ratelimit-remaining-subscription-writes']).toMatch(/^\d+$/);
    expect((await armRequest(h, 'PUT', path, { location: 'eastus2' })).status).toBe(200);
    const moved = await armRequest(h, 'PUT', path, { location: 'westus' });
    expect(moved.status).toBe(409);
    const got = await armRequest(h, 'GET', path);
    expect(got.body).toMatchObject({
      name,
      location: 'eastus2',
      properties: { provisioningState: 'Succeeded' },
    });
    const missing = await armRequest(
      h,
      'GET',
      `/subscriptions/${sub()}/resourcegroups/rg-nope?api-version=2021-04-01`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'ResourceGroupNotFound', message: expect.stringContaining('rg-nope'), details: [] },
    });
  });

  it('answers 401 AuthenticationFailed with a WWW-Authenticate challenge without a bearer token', async () => {
    const h = harness();
    const { request } = await import('node:https');
    const { readFileSync } = await import('node:fs');
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = request(
          `${h.emulator.armEndpoint}/subscriptions/${sub()}/resourcegroups?api-version=2021-04-01`,
          { ca: readFileSync(h.emulator.caCertPath, 'utf8') },
          (r) => {
            let body = '';
            r.on('data', (d: Buffer) => {
              body += d.toString();
            });
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'AuthenticationFailed' } });
  });

  it('deletes a resource group with its resources and role assignments (202 + Location, polled)', async () => {
    const h = harness();
    const name = `rg-del-${randomUUID().slice(0, 6)}`;
    await armRequest(h, 'PUT', `/subscriptions/${sub()}/resourcegroups/${name}?api-version=2021-04-01`, {
      location: 'eastus2',
    });
    const identity = await h.clients.msi.userAssignedIdentities.createOrUpdate(name, 'id-x', {
      location: 'eastus2',
    });
    await h.clients.authorization.roleAssignments.create(
      `/subscriptions/${sub()}/resourceGroups/${name}`,
      randomUUID(),
      {
        roleDefinitionId: h.appSettings.IMAGE_CONTRIBUTOR_ROLE_ID!,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      },
    );
    const del = await armRequest(
      h,
      'DELETE',
      `/subscriptions/${sub()}/resourcegroups/${name}?api-version=2021-04-01`,
    );
    expect(del.status).toBe(202);
    const location = new URL(del.headers.location!);
    expect(del.headers['retry-after']).toMatch(/^\d+$/);
    expect((await armRequest(h, 'GET', `${location.pathname}${location.search}`)).status).toBe(204);
    expect(
      (await armRequest(h, 'GET', `/subscriptions/${sub()}/resourcegroups/${name}?api-version=2021-04-01`))
        .status,
    ).toBe(404);
    expect(h.emulator.state.roleAssignments().filter((a) => a.principalId === identity.principalId)).toEqual(
      [],
    );
    expect(
      h.emulator.state.identities().filter((i) => i.name === 'id-x' && String(i.id).includes(name)),
    ).toEqual([]);
  });

  it('reports the addresses already used in a seeded subnet (ipConfigurations)', async () => {
    const h = harness();
    h.emulator.control.seed({
      virtualNetworks: [
        {
          resourceGroup: 'rg-enterprise-networking-spokes',
          name: 'vnet-busy',
          addressPrefixes: ['10.60.0.0/24'],
          subnets: [
            {
              name: 'busy',
              addressPrefix: '10.60.0.0/28',
              privateLinkServiceNetworkPolicies: 'Disabled',
              ipConfigurationCount: 9,
            },
          ],
        },
      ],
    });
    const subnet = await h.clients.network.subnets.get(
      'rg-enterprise-networking-spokes',
      'vnet-busy',
      'busy',
    );
    expect(subnet.ipConfigurations).toHaveLength(9);
    await expect(
      h.clients.network.subnets.beginDeleteAndWait('rg-enterprise-networking-spokes', 'vnet-busy', 'busy', {
        updateIntervalInMs: 5,
      }),
    ).rejects.toMatchObject({ code: 'InUseSubnetCannotBeDeleted' });
  });

  it('rejects a missing or unknown api-version the way ARM does', async () => {
    const h = harness();
    const none = await armRequest(h, 'GET', `/subscriptions/${sub()}/resourcegroups`);
    expect(none.status).toBe(400);
    expect((none.body as { error: { code: string } }).error.code).toBe('MissingApiVersionParameter');
    const wrong = await armRequest(
      h,
      'GET',
      `/subscriptions/${sub()}/resourceGroups/rg-imagebuilders/providers/Microsoft.VirtualMachineImages/imageTemplates?api-version=2020-02-14`,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({
      error: { code: 'InvalidApiVersionParameter', message: expect.stringContaining('2025-10-01') },
    });
  });

  it('creates identities with generated principal and client ids, lists and deletes them', async () => {
    const { clients } = harness();
    const name = `id-${randomUUID().slice(0, 8)}`;
    const created = await clients.msi.userAssignedIdentities.createOrUpdate('rg-imagebuilders', name, {
      location: 'eastus2',
    });
    expect(created.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.principalId).not.toBe(created.clientId);
    const again = await clients.msi.userAssignedIdentities.createOrUpdate('rg-imagebuilders', name, {
      location: 'eastus2',
      tags: { a: 'b' },
    });
    expect(again.principalId).toBe(created.principalId);
    const names: string[] = [];
    for await (const i of clients.msi.userAssignedIdentities.listByResourceGroup('rg-imagebuilders'))
      names.push(i.name!);
    expect(names).toContain(name);
    await clients.msi.userAssignedIdentities.delete('rg-imagebuilders', name);
    await expect(clients.msi.userAssignedIdentities.get('rg-imagebuilders', name)).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
  });

  it('refuses a role assignment for an identity created moments ago unless principalType is ServicePrincipal', async () => {
    const h = harness();
    const { clients, appSettings: s } = h;
    const identity = await clients.msi.userAssignedIdentities.createOrUpdate(
      'rg-imagebuilders',
      `id-${randomUUID().slice(0, 8)}`,
      { location: 'eastus2' },
    );
    const scope = `/subscriptions/${sub()}/resourceGroups/rg-jumpbox-images`;
    const params = { roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!, principalId: identity.principalId! };
    await expect(
      clients.authorization.roleAssignments.create(scope, randomUUID(), params),
    ).rejects.toMatchObject({ statusCode: 400, code: 'PrincipalNotFound' });
    const ok = await clients.authorization.roleAssignments.create(scope, randomUUID(), {
      ...params,
      principalType: 'ServicePrincipal',
    });
    expect(ok.principalType).toBe('ServicePrincipal');
    // Once replicated (virtual time), the principal type is no longer needed.
    const other = await clients.msi.userAssignedIdentities.createOrUpdate(
      'rg-imagebuilders',
      `id-${randomUUID().slice(0, 8)}`,
      { location: 'eastus2' },
    );
    h.clock.advanceBy(5 * 60_000);
    await expect(
      clients.authorization.roleAssignments.create(scope, randomUUID(), {
        ...params,
        principalId: other.principalId!,
      }),
    ).resolves.toMatchObject({ principalId: other.principalId });
    await expect(
      clients.authorization.roleAssignments.create(scope, randomUUID(), {
        ...params,
        principalId: randomUUID(),
      }),
    ).rejects.toMatchObject({ code: 'PrincipalNotFound' });
  });

  it('answers 409 RoleAssignmentExists for the same principal, role and scope under another name; same name is idempotent', async () => {
    const { clients, appSettings: s } = harness();
    const identity = await clients.msi.userAssignedIdentities.createOrUpdate(
      'rg-imagebuilders',
      `id-${randomUUID().slice(0, 8)}`,
      { location: 'eastus2' },
    );
    const scope = `/subscriptions/${sub()}/resourceGroups/rg-jumpbox-images`;
    const params = {
      roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
      principalId: identity.principalId!,
      principalType: 'ServicePrincipal' as const,
    };
    const name = randomUUID();
    const first = await clients.authorization.roleAssignments.create(scope, name, params);
    const repeat = await clients.authorization.roleAssignments.create(scope, name, params);
    expect(repeat.id).toBe(first.id);
    await expect(
      clients.authorization.roleAssignments.create(scope, randomUUID(), params),
    ).rejects.toMatchObject({ statusCode: 409, code: 'RoleAssignmentExists' });
    await expect(
      clients.authorization.roleAssignments.create(scope, 'not-a-guid', params),
    ).rejects.toMatchObject({ statusCode: 400, code: 'InvalidRoleAssignmentId' });
    const deleted = await clients.authorization.roleAssignments.delete(scope, name);
    expect(deleted.id).toBe(first.id);
    await expect(clients.authorization.roleAssignments.get(scope, name)).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('lists role assignments with $filter principalId and atScope(), counting inherited ones', async () => {
    const { clients, appSettings: s } = harness();
    const identity = await clients.msi.userAssignedIdentities.createOrUpdate(
      'rg-imagebuilders',
      `id-${randomUUID().slice(0, 8)}`,
      { location: 'eastus2' },
    );
    const pid = identity.principalId!;
    const subScope = `/subscriptions/${sub()}`;
    const rgScope = `${subScope}/resourceGroups/rg-jumpbox-images`;
    const vnet = s.BUILD_SUBNET_ID!.replace(/\/subnets\/.*$/, '');
    const mk = (scope: string, role: string) =>
      clients.authorization.roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: role,
        principalId: pid,
        principalType: 'ServicePrincipal',
      });
    await mk(
      subScope,
      `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
    );
    await mk(rgScope, s.IMAGE_CONTRIBUTOR_ROLE_ID!);
    await mk(vnet, s.NETWORK_JOINER_ROLE_ID!);
    const collect = async (it: AsyncIterable<{ scope?: string }>) => {
      const out: string[] = [];
      for await (const a of it) out.push(a.scope!);
      return out.sort();
    };
    const filter = `principalId eq '${pid}'`;
    expect(
      await collect(
        clients.authorization.roleAssignments.listForScope(rgScope, { filter: `atScope() and ${filter}` }),
      ),
    ).toEqual([subScope, rgScope].sort());
    expect(await collect(clients.authorization.roleAssignments.listForScope(subScope, { filter }))).toEqual(
      [subScope, rgScope, vnet].sort(),
    );
    expect(
      await collect(
        clients.authorization.roleAssignments.listForScope(vnet, { filter: `atScope() and ${filter}` }),
      ),
    ).toEqual([subScope, vnet].sort());
    await expect(
      collect(clients.authorization.roleAssignments.listForScope(rgScope, { filter: "roleName eq 'x'" })),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it('serves built-in and custom role definitions, by id and by roleName filter, and creates custom roles', async () => {
    const { clients, appSettings: s } = harness();
    const scope = `/subscriptions/${sub()}`;
    const joiner = await clients.authorization.roleDefinitions.get(
      scope,
      s.NETWORK_JOINER_ROLE_ID!.split('/').at(-1)!,
    );
    expect(joiner.roleType).toBe('CustomRole');
    expect(joiner.permissions?.[0]?.actions).toContain(
      'Microsoft.Network/virtualNetworks/subnets/join/action',
    );
    const found: string[] = [];
    for await (const r of clients.authorization.roleDefinitions.list(scope, {
      filter: "roleName eq 'Contributor'",
    }))
      found.push(r.id!);
    expect(found).toEqual([
      `${scope}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
    ]);
    const guid = randomUUID();
    const created = await clients.authorization.roleDefinitions.createOrUpdate(scope, guid, {
      roleName: `Test role ${guid}`,
      roleType: 'CustomRole',
      permissions: [{ actions: ['Microsoft.Compute/images/read'] }],
      assignableScopes: [scope],
    });
    expect(created.name).toBe(guid);
    await expect(
      clients.authorization.roleDefinitions.createOrUpdate(scope, randomUUID(), {
        roleName: `Test role ${guid}`,
        permissions: [],
        assignableScopes: [scope],
      }),
    ).rejects.toMatchObject({ statusCode: 409, code: 'RoleDefinitionWithSameNameExists' });
  });

  it('reads the build subnet, its vnet and NSG as preflight needs them, and creates network resources through ARM', async () => {
    const { clients } = harness();
    const subnet = await clients.network.subnets.get(
      'rg-enterprise-networking-spokes',
      'vnet-imagebuilder',
      'snet-imagebuilder',
    );
    expect(subnet.addressPrefix).toBe('10.240.0.0/28');
    expect(subnet.privateLinkServiceNetworkPolicies).toBe('Disabled');
    expect(subnet.networkSecurityGroup?.id).toMatch(/networkSecurityGroups\/nsg-snet-imagebuilder$/);
    const nsg = await clients.network.networkSecurityGroups.get(
      'rg-enterprise-networking-spokes',
      'nsg-snet-imagebuilder',
    );
    expect(nsg.securityRules?.map((r) => r.destinationPortRange)).toEqual(
      expect.arrayContaining(['60001', '22', '443', '80']),
    );
    expect(nsg.defaultSecurityRules).toHaveLength(6);
    expect(nsg.subnets?.map((x) => x.id)).toEqual([subnet.id]);
    const vnet = await clients.network.virtualNetworks.get(
      'rg-enterprise-networking-spokes',
      'vnet-imagebuilder',
    );
    expect(vnet.addressSpace?.addressPrefixes).toEqual(['10.240.0.0/24']);
    expect(vnet.subnets?.map((x) => x.name)).toEqual(['snet-imagebuilder']);

    const name = `vnet-${randomUUID().slice(0, 8)}`;
    const created = await clients.network.virtualNetworks.beginCreateOrUpdateAndWait(
      'rg-enterprise-networking-spokes',
      name,
      {
        location: 'eastus2',
        addressSpace: { addressPrefixes: ['10.50.0.0/24'] },
        subnets: [{ name: 'build', addressPrefix: '10.50.0.0/28' }],
      },
      { updateIntervalInMs: 5 },
    );
    expect(created.subnets?.[0]?.privateLinkServiceNetworkPolicies).toBe('Enabled');
    const updated = await clients.network.subnets.beginCreateOrUpdateAndWait(
      'rg-enterprise-networking-spokes',
      name,
      'build',
      { addressPrefix: '10.50.0.0/28', privateLinkServiceNetworkPolicies: 'Disabled' },
      { updateIntervalInMs: 5 },
    );
    expect(updated.privateLinkServiceNetworkPolicies).toBe('Disabled');
    await expect(
      clients.network.subnets.get('rg-enterprise-networking-spokes', name, 'nope'),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it('lists marketplace versions honouring $top and $orderby lexicographically, and sees newly published ones', async () => {
    const h = harness();
    const { clients } = h;
    h.emulator.control.publishImageVersion({
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: '24.04.99',
    });
    const all = await clients.compute.virtualMachineImages.list(
      'eastus2',
      'Canonical',
      'ubuntu-24_04-lts',
      'server',
    );
    expect(all.map((v) => v.name)).toContain('24.04.99');
    const top = await clients.compute.virtualMachineImages.list(
      'eastus2',
      'Canonical',
      'ubuntu-24_04-lts',
      'server',
      { top: 1, orderby: 'name desc' },
    );
    // Lexicographic: "24.04.99" sorts after "24.04.202501140" although it is numerically older.
    expect(top.map((v) => v.name)).toEqual(['24.04.99']);
    await expect(
      clients.compute.virtualMachineImages.list('eastus2', 'Canonical', 'nope', 'server'),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it('creates galleries and image definitions, reads versions, and deletes managed images with polling', async () => {
    const { clients } = harness();
    const g = `gal${randomUUID().slice(0, 6)}`;
    await clients.compute.galleries
      .createOrUpdate('rg-jumpbox-images', g, { location: 'eastus2' }, { updateIntervalInMs: 5 })
      .pollUntilDone();
    const def = await clients.compute.galleryImages
      .createOrUpdate(
        'rg-jumpbox-images',
        g,
        'jumpbox',
        {
          location: 'eastus2',
          osType: 'Linux',
          osState: 'Generalized',
          hyperVGeneration: 'V2',
          identifier: { publisher: 'contoso', offer: 'jumpbox', sku: '24_04' },
        },
        { updateIntervalInMs: 5 },
      )
      .pollUntilDone();
    expect(def.identifier?.offer).toBe('jumpbox');
    const versions: string[] = [];
    for await (const v of clients.compute.galleryImageVersions.listByGalleryImage(
      'rg-jumpbox-images',
      g,
      'jumpbox',
    ))
      versions.push(v.name!);
    expect(versions).toEqual([]);
    const img = await clients.compute.images
      .createOrUpdate(
        'rg-jumpbox-images',
        `img-${g}`,
        { location: 'eastus2', hyperVGeneration: 'V2' },
        { updateIntervalInMs: 5 },
      )
      .pollUntilDone();
    expect(img.provisioningState).toBe('Succeeded');
    await clients.compute.images
      .delete('rg-jumpbox-images', `img-${g}`, { updateIntervalInMs: 5 })
      .pollUntilDone();
    await expect(clients.compute.images.get('rg-jumpbox-images', `img-${g}`)).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
