/**
 * Preflight: every requirement of the seed runbook, checked read-only before anything is created.
 * Each failed check names the resource, the setting and the fix. `runPreflight` is the read-only report
 * (the HTTP dry run calls it); `preflightActivity` fails the build permanently when a check fails.
 */

import { permanent, statusOf } from '../../azure/errors.js';
import { parseSubnetId, type SubnetId } from '../../azure/resource-id.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { describeViolation, isolatedBuildFlows, nsgViolations, type RequiredFlow } from './nsg-evaluation.js';
import { capacityProblems, subnetCapacity } from './subnet-capacity.js';
import { IMAGE_BUILDER_REGIONS, isImageBuilderRegion } from './supported-regions.js';

export type PreflightCheckName =
  | 'region'
  | 'subscription'
  | 'subnet-exists'
  | 'subnet-capacity'
  | 'private-link-policies'
  | 'nsg'
  | 'outbound-access'
  | 'aci-subnet'
  | 'aci-delegation'
  | 'aci-nsg'
  | 'aci-provider'
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

/** The container-instance subnet of an isolated build (definition field, else the setting), if any. */
function aciSubnetOf(deps: Deps, definition: string): { subnet: SubnetId; setting: string } | undefined {
  const def = definitionOf(deps.config, definition);
  if (def.containerInstanceSubnetId) {
    return {
      subnet: parseSubnetId(def.containerInstanceSubnetId),
      setting: `IMAGE_DEFINITIONS[${def.name}].containerInstanceSubnetId`,
    };
  }
  if (deps.config.containerInstanceSubnetId) {
    return {
      subnet: parseSubnetId(deps.config.containerInstanceSubnetId),
      setting: 'CONTAINER_INSTANCE_SUBNET_ID',
    };
  }
  return undefined;
}

type SubnetBody = Awaited<ReturnType<Deps['clients']['network']['subnets']['get']>>;

const firstIpv4Prefix = (b: SubnetBody): string =>
  [...(b.addressPrefix ? [b.addressPrefix] : []), ...(b.addressPrefixes ?? [])].find((p) => /^\d/.test(p)) ??
  '0.0.0.0/32';

async function nsgCheck(
  deps: Deps,
  subnetBody: SubnetBody,
  subnet: SubnetId,
  setting: string,
  check: 'nsg' | 'aci-nsg',
  flows: readonly RequiredFlow[] | undefined,
): Promise<PreflightCheck> {
  const nsgId = subnetBody.networkSecurityGroup?.id;
  if (!nsgId) return { check, ok: true, resource: subnet.id, setting, message: 'no NSG on the subnet' };
  const nsgName = nsgId.slice(nsgId.lastIndexOf('/') + 1);
  const nsgRg = /\/resourceGroups\/([^/]+)\//i.exec(nsgId)?.[1] ?? subnet.resourceGroup;
  const nsg = await deps.clients.network.networkSecurityGroups.get(nsgRg, nsgName);
  const violations = nsgViolations(nsg, firstIpv4Prefix(subnetBody), flows);
  return {
    check,
    ok: violations.length === 0,
    resource: nsgId,
    setting,
    message:
      violations.length === 0
        ? `NSG ${nsgName} allows every flow Image Builder needs`
        : violations.map((v) => describeViolation(v, nsgName)).join('; '),
  };
}

/**
 * Does the build subnet have a way to the internet? A NAT gateway, a route table sending 0.0.0.0/0 to a
 * firewall or virtual appliance (or the internet), or Azure's default outbound access (the subnet property
 * `defaultOutboundAccess`, which Azure's REST spec documents as "set to false to disable default outbound
 * connectivity"; new virtual networks get private subnets since default outbound access was retired). A
 * download mirror (DOWNLOAD_MIRROR_URL) makes the check moot.
 */
export async function outboundAccessCheck(
  deps: Deps,
  subnetBody: SubnetBody & { defaultOutboundAccess?: boolean },
  subnet: SubnetId,
  setting: string,
): Promise<PreflightCheck> {
  const base = { check: 'outbound-access' as const, resource: subnet.id, setting };
  if (deps.config.downloadMirrorUrl) {
    return { ...base, ok: true, message: `downloads come from the mirror ${deps.config.downloadMirrorUrl}` };
  }
  if (subnetBody.natGateway?.id) {
    return { ...base, ok: true, message: `outbound through the NAT gateway ${subnetBody.natGateway.id}` };
  }
  const routeTableId = subnetBody.routeTable?.id;
  if (routeTableId) {
    const rtName = routeTableId.slice(routeTableId.lastIndexOf('/') + 1);
    const rtRg = /\/resourceGroups\/([^/]+)\//i.exec(routeTableId)?.[1] ?? subnet.resourceGroup;
    const rt = await deps.clients.network.routeTables.get(rtRg, rtName);
    const defaultRoute = (rt.routes ?? []).find((r) => r.addressPrefix === '0.0.0.0/0');
    if (defaultRoute) {
      const hop = defaultRoute.nextHopType ?? 'None';
      if (['VirtualAppliance', 'VirtualNetworkGateway', 'Internet'].includes(hop)) {
        return {
          ...base,
          ok: true,
          message: `outbound through route ${defaultRoute.name ?? '0.0.0.0/0'} of ${rtName} (next hop ${hop}${defaultRoute.nextHopIpAddress ? ` ${defaultRoute.nextHopIpAddress}` : ''})`,
        };
      }
      return {
        ...base,
        ok: false,
        message: `route table ${rtName} sends 0.0.0.0/0 to ${hop}: the customizers cannot download their tools. Route 0.0.0.0/0 to your firewall (next hop VirtualAppliance), attach a NAT gateway to subnet ${subnet.subnet}, or set DOWNLOAD_MIRROR_URL`,
      };
    }
  }
  if (subnetBody.defaultOutboundAccess !== false) {
    return {
      ...base,
      ok: true,
      message:
        'default outbound access (being retired by Azure: prefer a NAT gateway or a route to a firewall)',
    };
  }
  return {
    ...base,
    ok: false,
    message: `subnet ${subnet.subnet} has no path to the internet (defaultOutboundAccess is false, no NAT gateway, no 0.0.0.0/0 route to a firewall): the customizers cannot download their tools. Attach a NAT gateway (az network vnet subnet update -g ${subnet.resourceGroup} --vnet-name ${subnet.virtualNetwork} -n ${subnet.subnet} --nat-gateway <name>), route 0.0.0.0/0 to a firewall, or set DOWNLOAD_MIRROR_URL`,
  };
}

/** The isolated-build requirements on the container-instance subnet (Azure's image-builder-networking.md). */
async function isolatedBuildChecks(
  deps: Deps,
  build: { subnet: SubnetId; body: SubnetBody },
  aci: { subnet: SubnetId; setting: string },
): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = [];
  const { subnet, setting } = aci;
  const sameVnet =
    subnet.resourceGroup.toLowerCase() === build.subnet.resourceGroup.toLowerCase() &&
    subnet.virtualNetwork.toLowerCase() === build.subnet.virtualNetwork.toLowerCase();
  const separate = subnet.id.toLowerCase() !== build.subnet.id.toLowerCase();
  let body: SubnetBody | undefined;
  if (sameVnet && separate) {
    try {
      body = await deps.clients.network.subnets.get(
        subnet.resourceGroup,
        subnet.virtualNetwork,
        subnet.subnet,
      );
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
  }
  checks.push({
    check: 'aci-subnet',
    ok: sameVnet && separate && body !== undefined,
    resource: subnet.id,
    setting,
    message: !sameVnet
      ? `the container-instance subnet must be on the build subnet's virtual network (${build.subnet.virtualNetwork}); create it there`
      : !separate
        ? 'the container-instance subnet must be a separate subnet from the build subnet; create a second subnet (e.g. /28) in the same virtual network'
        : body
          ? "the container-instance subnet exists in the build subnet's virtual network"
          : `subnet ${subnet.subnet} was not found; create it in ${subnet.virtualNetwork} (az network vnet subnet create … --delegations Microsoft.ContainerInstance/containerGroups) or fix ${setting}`,
  });
  if (!body) return checks;
  const delegated = (body.delegations ?? []).some(
    (d) => d.serviceName?.toLowerCase() === 'microsoft.containerinstance/containergroups',
  );
  checks.push({
    check: 'aci-delegation',
    ok: delegated,
    resource: subnet.id,
    setting,
    message: delegated
      ? 'delegated to Microsoft.ContainerInstance/containerGroups'
      : `subnet ${subnet.subnet} is not delegated to Microsoft.ContainerInstance/containerGroups: run az network vnet subnet update -g ${subnet.resourceGroup} --vnet-name ${subnet.virtualNetwork} -n ${subnet.subnet} --delegations Microsoft.ContainerInstance/containerGroups`,
  });
  const flows = isolatedBuildFlows(firstIpv4Prefix(build.body), firstIpv4Prefix(body));
  checks.push(await nsgCheck(deps, body, subnet, setting, 'aci-nsg', flows.aci));
  let registration = 'unknown';
  try {
    registration =
      (await deps.clients.resources.providers.get('Microsoft.ContainerInstance')).registrationState ??
      'unknown';
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    registration = 'NotRegistered';
  }
  checks.push({
    check: 'aci-provider',
    ok: registration === 'Registered',
    resource: `/subscriptions/${deps.config.subscriptionId}/providers/Microsoft.ContainerInstance`,
    setting,
    message:
      registration === 'Registered'
        ? 'the Microsoft.ContainerInstance provider is registered'
        : `the Microsoft.ContainerInstance resource provider is ${registration} in subscription ${deps.config.subscriptionId}; isolated builds need it: run az provider register -n Microsoft.ContainerInstance`,
  });
  return checks;
}

export async function runPreflight(deps: Deps, definition: string): Promise<PreflightReport> {
  const { config, clients } = deps;
  const checks: PreflightCheck[] = [];
  const { subnet, setting } = subnetOf(deps, definition);
  const aci = aciSubnetOf(deps, definition);

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

    if (!aci) {
      // The proxy-VM mode only: Image Builder reaches its proxy VM over Private Link.
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
      checks.push(await nsgCheck(deps, subnetBody, subnet, setting, 'nsg', undefined));
    } else {
      const aciPrefix = await (async () => {
        try {
          const b = await clients.network.subnets.get(
            aci.subnet.resourceGroup,
            aci.subnet.virtualNetwork,
            aci.subnet.subnet,
          );
          return firstIpv4Prefix(b);
        } catch {
          return '0.0.0.0/32';
        }
      })();
      const flows = isolatedBuildFlows(firstIpv4Prefix(subnetBody), aciPrefix);
      checks.push(await nsgCheck(deps, subnetBody, subnet, setting, 'nsg', flows.build));
      checks.push(...(await isolatedBuildChecks(deps, { subnet, body: subnetBody }, aci)));
    }
    checks.push(await outboundAccessCheck(deps, subnetBody, subnet, setting));
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
