/**
 * Each preflight requirement violated, end to end through the local host: the build fails with a message
 * naming the resource, the setting and the fix, and nothing is created (no template, no role assignment,
 * no run). Region and subscription come from settings, so they are checked on runPreflight directly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runPreflight } from '../../src/activities/preflight/run-preflight.js';
import { type AppConfig, parseConfig } from '../../src/config.js';
import { DEFAULT_SCENARIO } from '../../src/local/scenarios/default.js';
import { type BuildHost, startBuildHost } from './build-host.js';

const DEF = 'aks-jumpbox';
let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost();
});
afterAll(async () => {
  await b?.stop();
});
beforeEach(() => {
  b.harness.emulator.control.reset();
});

const spokeRg = 'rg-enterprise-networking-spokes';
const vnet = DEFAULT_SCENARIO.virtualNetworks![0]!;
const nsg = DEFAULT_SCENARIO.networkSecurityGroups![0]!;

function withSubnet(patch: Record<string, unknown>) {
  return { virtualNetworks: [{ ...vnet, subnets: [{ ...vnet.subnets[0]!, ...patch }] }] };
}

async function expectPreflightFailure(pattern: RegExp): Promise<void> {
  const assignmentsBefore = b.harness.emulator.state.roleAssignments().length;
  const requestsBefore = b.harness.emulator.state.requests().length;
  const buildId = await b.startBuild(DEF, { force: true });
  const { output } = await b.finish(DEF);
  expect(output.result).toBe('Failed');
  expect(output.error?.code).toBe('PreflightFailed');
  expect(output.error?.message).toMatch(pattern);
  // Nothing created: no template, no new role assignment, no grant, no logs.
  expect(b.harness.emulator.state.imageTemplates()).toEqual([]);
  expect(b.harness.emulator.state.roleAssignments().length).toBe(assignmentsBefore);
  expect(b.imageContributorAssignments()).toEqual([]);
  expect(output.logs).toEqual([]);
  const rec = await b.records.get(buildId);
  expect(rec).toMatchObject({ status: 'Failed', phase: 'done', error: { code: 'PreflightFailed' } });
  const writes = b.harness.emulator.state
    .requests()
    .slice(requestsBefore)
    .filter((r) => r.request.method !== 'GET');
  expect(writes).toEqual([]);
}

describe('preflight violations end to end (nothing created)', () => {
  it('subnet missing', async () => {
    await b.harness.clients.network.subnets.beginDeleteAndWait(spokeRg, vnet.name, vnet.subnets[0]!.name, {
      updateIntervalInMs: 10,
    });
    await expectPreflightFailure(/\[subnet-exists\].*BUILD_SUBNET_ID.*not found; create it/);
  });

  it('prefix smaller than /28', async () => {
    b.harness.emulator.control.seed(withSubnet({ addressPrefix: '10.240.0.0/29' }));
    await expectPreflightFailure(/\[subnet-capacity\].*smaller than \/28; use a \/28 or larger subnet/);
  });

  it('fewer than 4 free addresses (IP configurations counted)', async () => {
    b.harness.emulator.control.seed(withSubnet({ ipConfigurationCount: 8 }));
    await expectPreflightFailure(/\[subnet-capacity\].*3 free addresses.*needs 4/);
  });

  it('privateLinkServiceNetworkPolicies Enabled', async () => {
    b.harness.emulator.control.seed(withSubnet({ privateLinkServiceNetworkPolicies: 'Enabled' }));
    await expectPreflightFailure(
      /\[private-link-policies\].*is Enabled.*--private-link-service-network-policies Disabled/,
    );
  });

  it('NSG less permissive than the seed tables (a deny before the allow)', async () => {
    b.harness.emulator.control.seed({
      networkSecurityGroups: [
        {
          ...nsg,
          securityRules: [
            ...nsg.securityRules,
            {
              name: 'DenyHttpsOut',
              priority: 50,
              direction: 'Outbound',
              access: 'Deny',
              protocol: 'Tcp',
              sourceAddressPrefix: '*',
              destinationAddressPrefix: 'Internet',
              destinationPortRange: '443',
            },
          ],
        },
      ],
    });
    await expectPreflightFailure(
      /\[nsg\].*outbound TCP 443 .*blocked \(rule "DenyHttpsOut"\).*add an Allow rule/,
    );
  });

  it('custom role missing', async () => {
    const roleId = b.env.IMAGE_CONTRIBUTOR_ROLE_ID!;
    await b.harness.clients.authorization.roleDefinitions.delete(
      `/subscriptions/${b.harness.emulator.subscriptionId}`,
      roleId.slice(roleId.lastIndexOf('/') + 1),
    );
    await expectPreflightFailure(
      /\[custom-roles\].*IMAGE_CONTRIBUTOR_ROLE_ID.*does not exist; deploy the custom roles/,
    );
  });

  it('region not supported, and subnet in another subscription (settings), reported together', async () => {
    const config: AppConfig = parseConfig({ ...b.env, AZURE_LOCATION: 'antarcticanorth' });
    const other = '11111111-1111-4111-8111-111111111111';
    const foreignSubnet = config.buildSubnet.id.replace(config.subscriptionId, other);
    const mutated = {
      ...config,
      buildSubnet: { ...config.buildSubnet, id: foreignSubnet, subscriptionId: other },
    } as AppConfig;
    const report = await runPreflight({ config: mutated, clients: b.harness.clients }, DEF);
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.check);
    expect(failed).toEqual(expect.arrayContaining(['region', 'subscription']));
    expect(report.checks.find((c) => c.check === 'region')?.message).toMatch(
      /AZURE_LOCATION.*one of: .*eastus2/,
    );
    expect(report.checks.find((c) => c.check === 'subscription')?.message).toMatch(/same subscription/);
  });

  it('the default scenario passes every check', async () => {
    const report = await runPreflight({ config: parseConfig(b.env), clients: b.harness.clients }, DEF);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        'region',
        'subscription',
        'subnet-exists',
        'subnet-capacity',
        'private-link-policies',
        'nsg',
        'custom-roles',
      ]),
    );
  });
});
