/**
 * Does a subnet's NSG let through every flow Image Builder needs (the seed's tables)?
 *
 * Rules are evaluated as Azure does: per direction, lowest priority number first, first match decides,
 * then the default rules (65000 AllowVnet, 65001 AllowAzureLoadBalancer / AllowInternet, 65500 DenyAll).
 * A required flow is "any source port, TCP, to one destination port" between the build subnet and a
 * service tag. Each rule is classified against the flow as matching all of it, part of it, or none:
 * - an Allow that matches all of the flow satisfies it;
 * - a Deny that matches any part of it (before a full Allow) blocks it — reported as a violation;
 * - a partial Allow lets the evaluation continue (the rest of the flow still has to be allowed).
 * Addresses the evaluation cannot prove (CIDRs against a service tag, application security groups,
 * other service tags) count as partial: conservative for Allow and for Deny alike.
 */

export type Direction = 'Inbound' | 'Outbound';

/** The subset of an ARM securityRule that matters here (SDK shape). */
export interface NsgRule {
  readonly name?: string | undefined;
  readonly priority?: number | undefined;
  readonly direction?: string | undefined;
  readonly access?: string | undefined;
  readonly protocol?: string | undefined;
  readonly sourceAddressPrefix?: string | undefined;
  readonly sourceAddressPrefixes?: readonly string[] | undefined;
  readonly destinationAddressPrefix?: string | undefined;
  readonly destinationAddressPrefixes?: readonly string[] | undefined;
  readonly sourcePortRange?: string | undefined;
  readonly sourcePortRanges?: readonly string[] | undefined;
  readonly destinationPortRange?: string | undefined;
  readonly destinationPortRanges?: readonly string[] | undefined;
  readonly sourceApplicationSecurityGroups?: readonly unknown[] | undefined;
  readonly destinationApplicationSecurityGroups?: readonly unknown[] | undefined;
}

/** One endpoint of a flow: the build subnet itself, or a service tag. */
export type Endpoint =
  | { readonly subnet: string; readonly label?: string | undefined }
  | { readonly tag: 'AzureLoadBalancer' | 'VirtualNetwork' | 'Internet' };

export interface RequiredFlow {
  readonly direction: Direction;
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly port: number;
  readonly reason: string;
}

/** The seed's minimum NSG tables, as flows from/to the build subnet (CIDR). */
export function requiredFlows(subnetPrefix: string): RequiredFlow[] {
  const subnet = { subnet: subnetPrefix };
  return [
    {
      direction: 'Inbound',
      source: { tag: 'AzureLoadBalancer' },
      destination: subnet,
      port: 60001,
      reason: 'load balancer health probe to the AIB proxy VM',
    },
    {
      direction: 'Inbound',
      source: { tag: 'VirtualNetwork' },
      destination: subnet,
      port: 60001,
      reason: 'AIB Private Link IP to the AIB proxy VM',
    },
    {
      direction: 'Inbound',
      source: { tag: 'VirtualNetwork' },
      destination: subnet,
      port: 22,
      reason: 'AIB proxy VM to the Packer VM over SSH',
    },
    {
      direction: 'Outbound',
      source: subnet,
      destination: { tag: 'Internet' },
      port: 443,
      reason: 'Azure management APIs, Storage and tool downloads',
    },
    {
      direction: 'Outbound',
      source: subnet,
      destination: { tag: 'Internet' },
      port: 80,
      reason: 'apt package repositories',
    },
    {
      direction: 'Outbound',
      source: subnet,
      destination: { tag: 'VirtualNetwork' },
      port: 22,
      reason: 'AIB proxy VM to the Packer VM over SSH',
    },
  ];
}

/**
 * Isolated builds (vmProfile.vnetConfig.containerInstanceSubnetId): no proxy VM, no load balancer probe or
 * Private Link on 60001; an Azure Container Instance in its own subnet reaches the build VM over SSH and
 * needs 443 (Image Builder, Storage) and 445 (Azure Files share of the container group) outbound
 * (image-builder-networking.md, "isolated builds"; image-builder-troubleshoot.md).
 */
export function isolatedBuildFlows(
  buildPrefix: string,
  aciPrefix: string,
): {
  build: RequiredFlow[];
  aci: RequiredFlow[];
} {
  const build = { subnet: buildPrefix, label: 'the build subnet' };
  const aci = { subnet: aciPrefix, label: 'the container-instance subnet' };
  return {
    build: [
      {
        direction: 'Inbound',
        source: aci,
        destination: build,
        port: 22,
        reason: 'the isolated-build container to the Packer VM over SSH',
      },
      {
        direction: 'Outbound',
        source: build,
        destination: { tag: 'Internet' },
        port: 443,
        reason: 'Azure management APIs, Storage and tool downloads',
      },
      {
        direction: 'Outbound',
        source: build,
        destination: { tag: 'Internet' },
        port: 80,
        reason: 'apt package repositories',
      },
    ],
    aci: [
      {
        direction: 'Outbound',
        source: aci,
        destination: build,
        port: 22,
        reason: 'the isolated-build container to the Packer VM over SSH',
      },
      {
        direction: 'Outbound',
        source: aci,
        destination: { tag: 'Internet' },
        port: 443,
        reason: 'Image Builder service and Storage over HTTPS',
      },
      {
        direction: 'Outbound',
        source: aci,
        destination: { tag: 'Internet' },
        port: 445,
        reason: 'the Azure Files share of the container group (SMB)',
      },
    ],
  };
}

/** Azure's default rules, used when the NSG resource does not list them. */
export const DEFAULT_SECURITY_RULES: readonly NsgRule[] = [
  {
    name: 'AllowVnetInBound',
    priority: 65000,
    direction: 'Inbound',
    access: 'Allow',
    protocol: '*',
    sourceAddressPrefix: 'VirtualNetwork',
    destinationAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
  {
    name: 'AllowAzureLoadBalancerInBound',
    priority: 65001,
    direction: 'Inbound',
    access: 'Allow',
    protocol: '*',
    sourceAddressPrefix: 'AzureLoadBalancer',
    destinationAddressPrefix: '*',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
  {
    name: 'DenyAllInBound',
    priority: 65500,
    direction: 'Inbound',
    access: 'Deny',
    protocol: '*',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
  {
    name: 'AllowVnetOutBound',
    priority: 65000,
    direction: 'Outbound',
    access: 'Allow',
    protocol: '*',
    sourceAddressPrefix: 'VirtualNetwork',
    destinationAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
  {
    name: 'AllowInternetOutBound',
    priority: 65001,
    direction: 'Outbound',
    access: 'Allow',
    protocol: '*',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: 'Internet',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
  {
    name: 'DenyAllOutBound',
    priority: 65500,
    direction: 'Outbound',
    access: 'Deny',
    protocol: '*',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
    sourcePortRange: '*',
    destinationPortRange: '*',
  },
];

/** none < partial < full */
export type Coverage = 0 | 1 | 2;
const NONE: Coverage = 0;
const PARTIAL: Coverage = 1;
const FULL: Coverage = 2;

const ANY = new Set(['*', 'any']);

function list(single: string | undefined, many: readonly string[] | undefined): string[] {
  const out = [...(many ?? [])];
  if (single !== undefined && single !== '') out.push(single);
  return out;
}

/** IPv4 CIDR (or single address) as [first, last] numbers; undefined when not IPv4. */
export function parseIpv4Range(text: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (len > 32) return undefined;
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - len);
  const first = Math.floor(ip / size) * size;
  return [first, first + size - 1];
}

/** How much of one flow endpoint a single address prefix of a rule covers. */
export function prefixCoverage(prefix: string, endpoint: Endpoint): Coverage {
  const p = prefix.trim();
  if (ANY.has(p.toLowerCase()) || p === '0.0.0.0/0') return FULL;
  if ('tag' in endpoint) {
    if (p.toLowerCase() === endpoint.tag.toLowerCase()) return FULL;
    // A different well-known tag of the three never overlaps the flow's tag... except that nothing is
    // certain about other tags and CIDRs: count them as partial.
    const known = ['azureloadbalancer', 'virtualnetwork', 'internet'];
    if (known.includes(p.toLowerCase())) return NONE;
    return PARTIAL;
  }
  // The endpoint is the build subnet.
  if (p.toLowerCase() === 'virtualnetwork') return FULL;
  const subnet = parseIpv4Range(endpoint.subnet);
  const range = parseIpv4Range(p);
  if (subnet && range) {
    if (range[0] <= subnet[0] && range[1] >= subnet[1]) return FULL;
    if (range[1] < subnet[0] || range[0] > subnet[1]) return NONE;
    return PARTIAL;
  }
  if (['azureloadbalancer', 'internet'].includes(p.toLowerCase())) return NONE;
  return PARTIAL;
}

function addressCoverage(
  prefixes: readonly string[],
  asgs: readonly unknown[] | undefined,
  endpoint: Endpoint,
): Coverage {
  let best: Coverage = NONE;
  for (const p of prefixes) best = Math.max(best, prefixCoverage(p, endpoint)) as Coverage;
  if (best < FULL && (asgs?.length ?? 0) > 0) best = Math.max(best, PARTIAL) as Coverage;
  return best;
}

/** Does a port range expression ("*", "22", "1000-2000") contain the port? */
export function portRangeContains(range: string, port: number): boolean {
  const r = range.trim();
  if (ANY.has(r.toLowerCase())) return true;
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(r);
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return port >= lo && port <= hi;
}

/** How much of a flow a rule matches. */
export function ruleCoverage(rule: NsgRule, flow: RequiredFlow): Coverage {
  if ((rule.direction ?? '').toLowerCase() !== flow.direction.toLowerCase()) return NONE;
  const proto = (rule.protocol ?? '*').toLowerCase();
  if (proto !== '*' && proto !== 'tcp') return NONE;
  const dports = list(rule.destinationPortRange, rule.destinationPortRanges);
  if (!dports.some((r) => portRangeContains(r, flow.port))) return NONE;
  const sports = list(rule.sourcePortRange, rule.sourcePortRanges);
  const sportCoverage: Coverage = sports.some(
    (r) => ANY.has(r.trim().toLowerCase()) || r.trim() === '0-65535',
  )
    ? FULL
    : sports.length === 0
      ? FULL
      : PARTIAL;
  const src = addressCoverage(
    list(rule.sourceAddressPrefix, rule.sourceAddressPrefixes),
    rule.sourceApplicationSecurityGroups,
    flow.source,
  );
  const dst = addressCoverage(
    list(rule.destinationAddressPrefix, rule.destinationAddressPrefixes),
    rule.destinationApplicationSecurityGroups,
    flow.destination,
  );
  return Math.min(sportCoverage, src, dst) as Coverage;
}

export interface FlowVerdict {
  readonly flow: RequiredFlow;
  readonly allowed: boolean;
  /** The rule that allowed the flow, or the one that (partly) denied it. */
  readonly decidingRule: string | undefined;
}

/** Evaluates one flow against the NSG's rules plus the defaults. */
export function evaluateFlow(
  rules: readonly NsgRule[],
  defaultRules: readonly NsgRule[],
  flow: RequiredFlow,
): FlowVerdict {
  const ordered = [...rules]
    .filter((r) => (r.direction ?? '').toLowerCase() === flow.direction.toLowerCase())
    .sort((a, b) => (a.priority ?? 4096) - (b.priority ?? 4096));
  const defaults = [...defaultRules]
    .filter((r) => (r.direction ?? '').toLowerCase() === flow.direction.toLowerCase())
    .sort((a, b) => (a.priority ?? 65500) - (b.priority ?? 65500));
  for (const rule of [...ordered, ...defaults]) {
    const c = ruleCoverage(rule, flow);
    if (c === NONE) continue;
    const allow = (rule.access ?? '').toLowerCase() === 'allow';
    if (!allow) return { flow, allowed: false, decidingRule: rule.name };
    if (c === FULL) return { flow, allowed: true, decidingRule: rule.name };
  }
  return { flow, allowed: false, decidingRule: undefined };
}

/** Every required flow the NSG does not allow (empty = at least as permissive as the seed). */
export function nsgViolations(
  nsg: {
    readonly securityRules?: readonly NsgRule[] | undefined;
    readonly defaultSecurityRules?: readonly NsgRule[] | undefined;
  },
  subnetPrefix: string,
  flows: readonly RequiredFlow[] = requiredFlows(subnetPrefix),
): FlowVerdict[] {
  const defaults =
    nsg.defaultSecurityRules && nsg.defaultSecurityRules.length > 0
      ? nsg.defaultSecurityRules
      : DEFAULT_SECURITY_RULES;
  return flows.map((f) => evaluateFlow(nsg.securityRules ?? [], defaults, f)).filter((v) => !v.allowed);
}

function endpointText(e: Endpoint): string {
  return 'tag' in e ? e.tag : `${e.label ?? 'the build subnet'} (${e.subnet})`;
}

/** One line naming the flow, the blocking rule and the fix. */
export function describeViolation(v: FlowVerdict, nsgName: string): string {
  const f = v.flow;
  const by = v.decidingRule ? `rule "${v.decidingRule}"` : 'no rule allows it';
  return (
    `NSG ${nsgName}: ${f.direction.toLowerCase()} TCP ${f.port} from ${endpointText(f.source)} to ${endpointText(f.destination)} ` +
    `(${f.reason}) is blocked (${by}); add an Allow rule for it with a lower priority number than any Deny that covers it`
  );
}
