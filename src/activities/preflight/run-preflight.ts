/**
 * Preflight: every requirement of the seed runbook, checked read-only before anything is created.
 * Each failed check names the resource, the setting and the fix. `runPreflight` is the read-only report
 * (the HTTP dry run calls it); `preflightActivity` fails the build permanently when a check fails.
 */

import { permanent, statusOf } from '../../azure/errors.js';
import { parseSubnetId, type SubnetId } from '../../azure/resource-id.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { describeViolation, nsgViolations } from './nsg-evaluation.js';
import { capacityProblems, subnetCapacity } from './subnet-capacity.js';
import { IMAGE_BUILDER_REGIONS, isImageBuilderRegion } from './supported-regions.js';

export type PreflightCheckName =
  | 'region'
  | 'subscription'
  | 'subnet-exists'
  | 'subnet-capacity'
  | 'private-link-policies'
  | 'nsg'
  | 'custom-roles';

export interface PreflightCheck {
  readonly check: PreflightCheckName;
  readonly ok: boolean;
  /** The Azure resource (id) or value checked. */
  readonly resource: string;
  /** The app setting that points at it. */
  readonly setting: string;
  /** What was found, and on failure, the fix. */
  readonly message: string;
}

export interface PreflightReport {
  readonly definition: string;
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

type Deps = Pick<ActivityDeps, 'config' | 'clients'>;

function subnetOf(deps: Deps, definition: string): { subnet: SubnetId; setting: string } {
  const def = definitionOf(deps.config, definition);
  if (def.buildSubnetId) {
    return {
      subnet: parseSubnetId(def.buildSubnetId),
      setting: `IMAGE_DEFINITIONS[${def.name}].buildSubnetId`,
    };
  }
  return { subnet: deps.config.buildSubnet, setting: 'BUILD_SUBNET_ID' };
}

export async function runPreflight(deps: Deps, definition: string): Promise<PreflightReport> {
  const { config, clients } = deps;
  const checks: PreflightCheck[] = [];
  const { subnet, setting } = subnetOf(deps, definition);

  checks.push({
    check: 'region',
    ok: isImageBuilderRegion(config.location),
    resource: config.location,
    setting: 'AZURE_LOCATION',
    message: isImageBuilderRegion(config.location)
      ? `${config.location} is an Image Builder region`
      : `${config.location} is not an Image Builder region; set AZURE_LOCATION (and move the build subnet) to one of: ${IMAGE_BUILDER_REGIONS.join(', ')}`,
  });

  const sameSub = subnet.subscriptionId.toLowerCase() === config.subscriptionId.toLowerCase();
  checks.push({
    check: 'subscription',
    ok: sameSub,
    resource: subnet.id,
    setting,
    message: sameSub
      ? `subnet, image builder resource group (${config.resourceGroups.imageBuilder}) and destination (${config.resourceGroups.destination}) are in subscription ${config.subscriptionId}`
      : `the subnet is in subscription ${subnet.subscriptionId} but the image builder and destination resource groups are in ${config.subscriptionId}; use a subnet in the same subscription`,
  });

  let subnetBody: Awaited<ReturnType<typeof clients.network.subnets.get>> | undefined;
  let vnetLocation: string | undefined;
  try {
    subnetBody = await clients.network.subnets.get(
      subnet.resourceGroup,
      subnet.virtualNetwork,
      subnet.subnet,
    );
    const vnet = await clients.network.virtualNetworks.get(subnet.resourceGroup, subnet.virtualNetwork);
    vnetLocation = vnet.location;
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  checks.push({
    check: 'subnet-exists',
    ok: subnetBody !== undefined,
    resource: subnet.id,
    setting,
    message: subnetBody
      ? vnetLocation && vnetLocation.toLowerCase() !== config.location.toLowerCase()
        ? `the subnet exists but its virtual network is in ${vnetLocation}, not ${config.location}`
        : 'the subnet exists'
      : `subnet ${subnet.subnet} of virtual network ${subnet.virtualNetwork} (resource group ${subnet.resourceGroup}) was not found; create it (a /28 or larger) or fix ${setting}`,
  });
  if (subnetBody && vnetLocation && vnetLocation.toLowerCase() !== config.location.toLowerCase()) {
    checks[checks.length - 1] = {
      ...checks[checks.length - 1]!,
      ok: false,
      message: `virtual network ${subnet.virtualNetwork} is in ${vnetLocation} but AZURE_LOCATION is ${config.location}; Image Builder needs the build subnet in the template's region: use a subnet in ${config.location} or change AZURE_LOCATION`,
    };
  }

  if (subnetBody) {
    const prefixes = [
      ...(subnetBody.addressPrefix ? [subnetBody.addressPrefix] : []),
      ...(subnetBody.addressPrefixes ?? []),
    ];
    const used = subnetBody.ipConfigurations?.length ?? 0;
    let capacityMessage: string;
    let capacityOk: boolean;
    try {
      const capacity = subnetCapacity([...new Set(prefixes)], used);
      const problems = capacityProblems(capacity);
      capacityOk = problems.length === 0;
      capacityMessage = capacityOk
        ? `${capacity.prefixes.join(', ')}: ${capacity.freeAddresses} free addresses (needs 4)`
        : `subnet ${subnet.subnet} ${problems.join('; ')}`;
    } catch (e) {
      capacityOk = false;
      capacityMessage = `subnet ${subnet.subnet}: ${(e as Error).message}; give it an IPv4 prefix of /28 or larger`;
    }
    checks.push({
      check: 'subnet-capacity',
      ok: capacityOk,
      resource: subnet.id,
      setting,
      message: capacityMessage,
    });

    const plsPolicies = subnetBody.privateLinkServiceNetworkPolicies ?? 'Enabled';
    checks.push({
      check: 'private-link-policies',
      ok: plsPolicies === 'Disabled',
      resource: subnet.id,
      setting,
      message:
        plsPolicies === 'Disabled'
          ? 'privateLinkServiceNetworkPolicies is Disabled'
          : `privateLinkServiceNetworkPolicies is ${plsPolicies}; Image Builder reaches its proxy VM over Private Link: run az network vnet subnet update -g ${subnet.resourceGroup} --vnet-name ${subnet.virtualNetwork} -n ${subnet.subnet} --private-link-service-network-policies Disabled`,
    });

    const nsgId = subnetBody.networkSecurityGroup?.id;
    if (nsgId) {
      const nsgName = nsgId.slice(nsgId.lastIndexOf('/') + 1);
      const nsgRg = /\/resourceGroups\/([^/]+)\//i.exec(nsgId)?.[1] ?? subnet.resourceGroup;
      const nsg = await clients.network.networkSecurityGroups.get(nsgRg, nsgName);
      const subnetPrefix = prefixes.find((p) => /^\d/.test(p)) ?? '0.0.0.0/32';
      const violations = nsgViolations(nsg, subnetPrefix);
      checks.push({
        check: 'nsg',
        ok: violations.length === 0,
        resource: nsgId,
        setting,
        message:
          violations.length === 0
            ? `NSG ${nsgName} allows every flow Image Builder needs`
            : violations.map((v) => describeViolation(v, nsgName)).join('; '),
      });
    } else {
      checks.push({ check: 'nsg', ok: true, resource: subnet.id, setting, message: 'no NSG on the subnet' });
    }
  }

  for (const [roleSetting, roleId] of [
    ['NETWORK_JOINER_ROLE_ID', config.roles.networkJoiner],
    ['IMAGE_CONTRIBUTOR_ROLE_ID', config.roles.imageContributor],
  ] as const) {
    let exists = true;
    try {
      await clients.authorization.roleDefinitions.getById(roleId);
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
      exists = false;
    }
    checks.push({
      check: 'custom-roles',
      ok: exists,
      resource: roleId,
      setting: roleSetting,
      message: exists
        ? 'the role definition exists'
        : `role definition ${roleId} does not exist; deploy the custom roles (infra/ roles module, or the seed's createsubscriptionroles.bicep) and set ${roleSetting} to its id`,
    });
  }

  return { definition, ok: checks.every((c) => c.ok), checks };
}

/** One message listing every failed check. */
export function preflightFailureMessage(report: PreflightReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  return `Preflight failed for "${report.definition}" (${failed.length} problem${failed.length === 1 ? '' : 's'}): ${failed
    .map((c) => `[${c.check}] ${c.resource} (${c.setting}): ${c.message}`)
    .join(' | ')}`;
}

/** The activity: the report when every check passes, a permanent PreflightFailed error otherwise. */
export async function preflightActivity(deps: Deps, input: { definition: string }): Promise<PreflightReport> {
  const report = await runPreflight(deps, input.definition);
  if (!report.ok) throw permanent('PreflightFailed', preflightFailureMessage(report));
  return report;
}
