/**
 * Preflight's network checks for the two modes Image Builder supports and the build subnet's way out:
 * - isolated builds (container-instance subnet): same virtual network, a separate subnet, delegated to
 *   Microsoft.ContainerInstance/containerGroups, NSG flows between the two subnets and 443/445 outbound,
 *   the Microsoft.ContainerInstance provider registered (image-builder-networking.md, image-builder-json.md
 *   vnetConfig.containerInstanceSubnetId, image-builder-troubleshoot.md); the proxy-VM rules are skipped;
 * - outbound access: NAT gateway, a 0.0.0.0/0 route to a firewall, default outbound access (subnet property
 *   `defaultOutboundAccess`, REST spec virtualNetwork.json 2025-05-01), or DOWNLOAD_MIRROR_URL.
 * The network, resources and authorization clients are reduced to the reads preflight makes, answering
 * in the REST shapes (the end-to-end preflight suite runs against the ARM emulator).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { runPreflight } from '../../src/activities/preflight/run-preflight.js';
import { parseConfig } from '../../src/config.js';

const sample = (
  JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> }
).Values;
const SUB = sample.AZURE_SUBSCRIPTION_ID!;
const VNET = `/subscriptions/${SUB}/resourceGroups/rg-enterprise-networking-spokes/providers/Microsoft.Network/virtualNetworks/vnet-imagebuilder`;
const ACI = `${VNET}/subnets/snet-aci`;

interface World {
  build?: Record<string, unknown>;
  aci?: Record<string, unknown> | null;
  aciNsgRules?: unknown[];
  routes?: unknown[];
  provider?: string;
}

function depsFor(w: World, env: Record<string, string> = {}): Pick<ActivityDeps, 'config' | 'clients'> {
  const config = parseConfig({ ...sample, ...env });
  const subnets: Record<string, Record<string, unknown> | null | undefined> = {
    'snet-imagebuilder': {
      addressPrefix: '10.240.0.0/28',
      privateLinkServiceNetworkPolicies: 'Disabled',
      ...w.build,
    },
    'snet-aci': w.aci === null ? undefined : { addressPrefix: '10.240.0.16/28', delegations: [], ...w.aci },
  };
  const clients = {
    network: {
      subnets: {
        get: async (_rg: string, _vnet: string, name: string) => {
          const s = subnets[name];
          if (!s) throw Object.assign(new Error('not found'), { statusCode: 404 });
          return s;
        },
      },
      virtualNetworks: { get: async () => ({ location: config.location }) },
      networkSecurityGroups: {
        get: async () => ({ securityRules: w.aciNsgRules ?? [] }),
      },
      routeTables: { get: async () => ({ routes: w.routes ?? [] }) },
    },
    resources: { providers: { get: async () => ({ registrationState: w.provider ?? 'Registered' }) } },
    authorization: { roleDefinitions: { getById: async () => ({}) } },
  } as unknown as ActivityDeps['clients'];
  return { config, clients };
}

const check = async (w: World, name: string, env: Record<string, string> = {}) => {
  const report = await runPreflight(depsFor(w, env), 'aks-jumpbox');
  return { report, c: report.checks.find((x) => x.check === name) };
};
const isolated = { CONTAINER_INSTANCE_SUBNET_ID: ACI };
const delegated = { delegations: [{ serviceName: 'Microsoft.ContainerInstance/containerGroups' }] };

describe('isolated builds', () => {
  it('a correct container-instance subnet passes, and the proxy-VM rules are not checked', async () => {
    const { report } = await check(
      { build: { privateLinkServiceNetworkPolicies: 'Enabled' }, aci: delegated },
      'aci-subnet',
      isolated,
    );
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.check)).not.toContain('private-link-policies');
    expect(report.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining(['aci-subnet', 'aci-delegation', 'aci-nsg', 'aci-provider']),
    );
  });

  it.each([
    [
      'not delegated',
      { aci: {} },
      'aci-delegation',
      /--delegations Microsoft\.ContainerInstance\/containerGroups/,
    ],
    ['missing', { aci: null }, 'aci-subnet', /was not found; create it/],
    [
      'provider not registered',
      { aci: delegated, provider: 'NotRegistered' },
      'aci-provider',
      /az provider register -n Microsoft\.ContainerInstance/,
    ],
    [
      'NSG blocks 445 outbound',
      {
        aci: { ...delegated, networkSecurityGroup: { id: `${VNET}/../../networkSecurityGroups/nsg-aci` } },
        aciNsgRules: [
          {
            name: 'DenySmb',
            priority: 100,
            direction: 'Outbound',
            access: 'Deny',
            protocol: 'Tcp',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            destinationPortRange: '445',
          },
        ],
      },
      'aci-nsg',
      /outbound TCP 445 .*Azure Files.*rule "DenySmb"/,
    ],
    [
      'NSG blocks SSH to the build subnet',
      {
        aci: { ...delegated, networkSecurityGroup: { id: `${VNET}/../../networkSecurityGroups/nsg-aci` } },
        aciNsgRules: [
          {
            name: 'DenyVnet',
            priority: 100,
            direction: 'Outbound',
            access: 'Deny',
            protocol: '*',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: 'VirtualNetwork',
            destinationPortRange: '*',
          },
        ],
      },
      'aci-nsg',
      /outbound TCP 22 from the container-instance subnet .* to the build subnet/,
    ],
  ] as const)('%s: refused by preflight with the fix', async (_name, w, name, fix) => {
    const { report, c } = await check(w as World, name, isolated);
    expect(report.ok).toBe(false);
    expect(c?.ok).toBe(false);
    expect(c?.message).toMatch(fix);
    expect(c?.setting).toBe('CONTAINER_INSTANCE_SUBNET_ID');
  });

  it('the container-instance subnet must be separate from the build subnet (start-up refuses it)', () => {
    expect(() => depsFor({}, { CONTAINER_INSTANCE_SUBNET_ID: sample.BUILD_SUBNET_ID! })).toThrow(
      /CONTAINER_INSTANCE_SUBNET_ID: must be a separate subnet/,
    );
  });
});

describe('outbound access of the build subnet', () => {
  it.each([
    [
      'NAT gateway',
      { build: { defaultOutboundAccess: false, natGateway: { id: '/nat' } } },
      {},
      /NAT gateway/,
    ],
    [
      'route to a firewall',
      {
        build: { defaultOutboundAccess: false, routeTable: { id: `${VNET}/../../routeTables/rt` } },
        routes: [
          {
            name: 'to-fw',
            addressPrefix: '0.0.0.0/0',
            nextHopType: 'VirtualAppliance',
            nextHopIpAddress: '10.0.0.4',
          },
        ],
      },
      {},
      /next hop VirtualAppliance 10\.0\.0\.4/,
    ],
    ['default outbound access', { build: {} }, {}, /default outbound access/],
    [
      'a download mirror',
      { build: { defaultOutboundAccess: false } },
      { DOWNLOAD_MIRROR_URL: 'https://mirror.example' },
      /mirror/,
    ],
  ] as const)('%s counts as a path', async (_n, w, env, msg) => {
    const { c } = await check(w as World, 'outbound-access', env as Record<string, string>);
    expect(c?.ok).toBe(true);
    expect(c?.message).toMatch(msg);
  });

  it('a private subnet without NAT, firewall route or mirror is refused before anything is created', async () => {
    const { report, c } = await check({ build: { defaultOutboundAccess: false } }, 'outbound-access');
    expect(report.ok).toBe(false);
    expect(c?.message).toMatch(/no path to the internet.*NAT gateway.*DOWNLOAD_MIRROR_URL/);
  });

  it('a 0.0.0.0/0 route to None is refused', async () => {
    const { c } = await check(
      {
        build: { routeTable: { id: `${VNET}/../../routeTables/rt` } },
        routes: [{ addressPrefix: '0.0.0.0/0', nextHopType: 'None' }],
      },
      'outbound-access',
    );
    expect(c?.ok).toBe(false);
    expect(c?.message).toMatch(/sends 0\.0\.0\.0\/0 to None/);
  });
});
