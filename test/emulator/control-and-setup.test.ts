/**
 * The HTTP control API, exchange recording (tokens redacted), scenario loading, and the app settings
 * produced for an emulator (parseConfig must accept them).
 */

import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, SETTINGS } from '../../src/config.js';
import { DEFAULT_SCENARIO, loadScenario } from '../../src/local/scenarios/index.js';
import { startTestEmulator, useEmulator } from '../support/emulator.js';
import { controlCall as control, createTemplate, FAST, pollUntilTerminal } from './helpers.js';

describe('control API over HTTP', () => {
  const harness = useEmulator();

  it('moves the clock, publishes marketplace versions, sets build behaviour and faults, and resets', async () => {
    const h = harness();
    const before = (await control(h, 'GET', '/clock')).body as { nowMs: number; scale: null };
    expect(before.scale).toBeNull();
    const after = (await control(h, 'POST', '/clock', { advanceBySeconds: 90 })).body as { nowMs: number };
    expect(after.nowMs - before.nowMs).toBe(90_000);

    const published = await control(h, 'POST', '/marketplace', {
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: '24.04.202612010',
    });
    expect((published.body as { versions: string[] }).versions).toContain('24.04.202612010');
    const listed = await h.clients.compute.virtualMachineImages.list(
      'eastus2',
      'Canonical',
      'ubuntu-24_04-lts',
      'server',
    );
    expect(listed.map((v) => v.name)).toContain('24.04.202612010');

    const behaviour = await control(h, 'PUT', '/build-behaviour', {
      outcome: 'customizer-failure',
      phaseDurations: { customizing: 60 },
    });
    expect(behaviour.body).toMatchObject({
      outcome: 'customizer-failure',
      phaseDurations: { customizing: 60, queued: 60 },
    });
    expect((await control(h, 'PUT', '/build-behaviour', { outcome: 'explode' })).status).toBe(400);

    expect(
      (await control(h, 'POST', '/faults', { path: '/resourcegroups$', kind: '503', times: 1 })).status,
    ).toBe(201);
    expect(((await control(h, 'GET', '/faults')).body as { value: unknown[] }).value).toHaveLength(1);
    expect((await control(h, 'DELETE', '/faults')).status).toBe(204);

    const { rg, name } = await createTemplate(h);
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    expect((await pollUntilTerminal(h, rg, name)).seen.at(-1)).toBe('Failed/Customizing');
    const state = (await control(h, 'GET', '/state')).body as {
      imageTemplates: { name: string; runs: string[] }[];
    };
    expect(state.imageTemplates.find((t) => t.name === name)?.runs).toHaveLength(1);

    expect((await control(h, 'POST', '/reset')).status).toBe(200);
    expect(h.emulator.state.imageTemplates()).toEqual([]);
    expect(h.emulator.state.marketplaceVersions('Canonical', 'ubuntu-24_04-lts', 'server')).not.toContain(
      '24.04.202612010',
    );
    expect((await control(h, 'GET', '/nope')).status).toBe(404);
  });

  it('seeds extra resources and principals', async () => {
    const h = harness();
    const rgName = `rg-seeded-${randomUUID().slice(0, 6)}`;
    expect(
      (
        await control(h, 'POST', '/seed', {
          resourceGroups: [{ name: rgName }],
          identities: [{ resourceGroup: rgName, name: 'id-seeded' }],
        })
      ).status,
    ).toBe(200);
    const identity = await h.clients.msi.userAssignedIdentities.get(rgName, 'id-seeded');
    // Seeded identities are long replicated: no principalType needed.
    await h.clients.authorization.roleAssignments.create(
      `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/${rgName}`,
      randomUUID(),
      {
        roleDefinitionId: h.appSettings.IMAGE_CONTRIBUTOR_ROLE_ID!,
        principalId: identity.principalId!,
      },
    );
    const objectId = randomUUID();
    expect((await control(h, 'POST', '/principals', { objectId })).status).toBe(200);
    expect((await control(h, 'POST', '/principals', {})).status).toBe(400);
  });
});

describe('recording, scenarios and app settings', () => {
  const file = join(tmpdir(), `arm-record-${randomUUID()}.jsonl`);
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await stop?.();
  });

  it('records every exchange as one JSON line with the token redacted', async () => {
    const h = await startTestEmulator({ recordFile: file });
    stop = () => h.emulator.stop();
    await h.clients.msi.userAssignedIdentities.get('rg-imagebuilders', 'id-aib-jumpbox-builder');
    await h.clients.network.subnets
      .get('rg-enterprise-networking-spokes', 'vnet-imagebuilder', 'nope')
      .catch(() => undefined);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            request: { headers: Record<string, string>; url: string; method: string };
            response: { statusCode: number; body: unknown };
          },
      );
    expect(lines.map((l) => l.response.statusCode)).toEqual([200, 404]);
    expect(lines[0]!.request.headers.authorization).toBe('Bearer REDACTED');
    expect(readFileSync(file, 'utf8')).not.toMatch(/eyJ/);
    expect(lines[0]!.response.body).toMatchObject({ name: 'id-aib-jumpbox-builder' });
    expect(lines[1]!.response.body).toMatchObject({ error: { code: 'ResourceNotFound' } });
  });

  it('produces app settings that parseConfig accepts, naming every setting', async () => {
    const h = await startTestEmulator();
    try {
      const config = parseConfig(h.appSettings);
      expect(Object.keys(h.appSettings).sort()).toEqual(
        Object.entries(SETTINGS)
          .filter(([k, v]) => v !== undefined || h.appSettings[k] !== undefined)
          .map(([k]) => k)
          .sort(),
      );
      expect(config.azure.armEndpoint).toBe(h.emulator.armEndpoint);
      expect(config.buildSubnet.subnet).toBe('snet-imagebuilder');
      expect(config.roles.networkJoiner).toBe(h.appSettings.NETWORK_JOINER_ROLE_ID);
      const subnet = await h.clients.network.subnets.get(
        config.buildSubnet.resourceGroup,
        config.buildSubnet.virtualNetwork,
        config.buildSubnet.subnet,
      );
      expect(subnet.id).toBe(config.buildSubnet.id);
    } finally {
      await h.emulator.stop();
    }
  });

  it('loads a partial scenario file over the default and rejects a malformed one', () => {
    const good = join(tmpdir(), `scenario-${randomUUID()}.json`);
    writeFileSync(good, JSON.stringify({ location: 'westeurope', resourceGroups: [{ name: 'rg-only' }] }));
    const s = loadScenario(good);
    expect(s.location).toBe('westeurope');
    expect(s.resourceGroups).toEqual([{ name: 'rg-only' }]);
    expect(s.app).toEqual(DEFAULT_SCENARIO.app);
    const bad = join(tmpdir(), `scenario-${randomUUID()}.json`);
    writeFileSync(bad, '[1,2]');
    expect(() => loadScenario(bad)).toThrow(/must be a JSON object/);
    writeFileSync(bad, '{"location": 3}');
    expect(() => loadScenario(bad)).toThrow(/"location" must be a non-empty string/);
  });
});
