import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SECURITY_RULES,
  describeViolation,
  type NsgRule,
  nsgViolations,
  portRangeContains,
  requiredFlows,
} from '../../src/activities/preflight/nsg-evaluation.js';
import { capacityProblems, subnetCapacity } from '../../src/activities/preflight/subnet-capacity.js';
import { roleAssignmentName } from '../../src/activities/roles/assignment-name.js';

const SUBNET = '10.240.0.0/28';

/** The seed's locked-down tables, exactly. */
const seedRules: NsgRule[] = [
  {
    name: 'AllowAzureLoadBalancer60001InBound',
    priority: 100,
    direction: 'Inbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'AzureLoadBalancer',
    sourcePortRange: '*',
    destinationAddressPrefix: 'VirtualNetwork',
    destinationPortRange: '60001',
  },
  {
    name: 'AllowVNet60001InBound',
    priority: 110,
    direction: 'Inbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationAddressPrefix: 'VirtualNetwork',
    destinationPortRange: '60001',
  },
  {
    name: 'AllowVNet22InBound',
    priority: 120,
    direction: 'Inbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationAddressPrefix: 'VirtualNetwork',
    destinationPortRange: '22',
  },
  {
    name: 'DenyAllInBound',
    priority: 1000,
    direction: 'Inbound',
    access: 'Deny',
    protocol: '*',
    sourceAddressPrefix: '*',
    sourcePortRange: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: '*',
  },
  {
    name: 'AllowInternet443OutBound',
    priority: 100,
    direction: 'Outbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationAddressPrefix: 'Internet',
    destinationPortRange: '443',
  },
  {
    name: 'AllowInternet80OutBound',
    priority: 110,
    direction: 'Outbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationAddressPrefix: 'Internet',
    destinationPortRange: '80',
  },
  {
    name: 'AllowVNet22OutBound',
    priority: 120,
    direction: 'Outbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefix: 'VirtualNetwork',
    sourcePortRange: '*',
    destinationAddressPrefix: 'VirtualNetwork',
    destinationPortRange: '22',
  },
  {
    name: 'DenyAllOutBound',
    priority: 1000,
    direction: 'Outbound',
    access: 'Deny',
    protocol: '*',
    sourceAddressPrefix: '*',
    sourcePortRange: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: '*',
  },
];

describe('NSG evaluation against the seed tables', () => {
  it('accepts the seed NSG, an empty NSG (defaults) and an allow-everything NSG', () => {
    expect(nsgViolations({ securityRules: seedRules }, SUBNET)).toEqual([]);
    expect(nsgViolations({ securityRules: [] }, SUBNET)).toEqual([]);
    expect(
      nsgViolations({ securityRules: [], defaultSecurityRules: [...DEFAULT_SECURITY_RULES] }, SUBNET),
    ).toEqual([]);
  });

  it('each required flow removed from the seed NSG is reported, and only that one', () => {
    const allowRules = seedRules.filter((r) => r.access === 'Allow');
    for (const removed of allowRules) {
      const v = nsgViolations({ securityRules: seedRules.filter((r) => r !== removed) }, SUBNET);
      expect(v).toHaveLength(1);
      expect(v[0]!.decidingRule).toMatch(/^DenyAll/);
      expect(describeViolation(v[0]!, 'nsg-x')).toMatch(/nsg-x.*blocked.*add an Allow rule/);
    }
  });

  it('a higher-priority deny overrides a later allow; a lower-priority deny does not', () => {
    const deny22 = {
      name: 'Deny22',
      direction: 'Inbound',
      access: 'Deny',
      protocol: 'Tcp',
      sourceAddressPrefix: '*',
      sourcePortRange: '*',
      destinationAddressPrefix: '*',
      destinationPortRange: '20-23',
    };
    const before = nsgViolations({ securityRules: [...seedRules, { ...deny22, priority: 50 }] }, SUBNET);
    expect(before.map((v) => [v.flow.port, v.decidingRule])).toEqual([[22, 'Deny22']]);
    expect(nsgViolations({ securityRules: [...seedRules, { ...deny22, priority: 500 }] }, SUBNET)).toEqual(
      [],
    );
  });

  it('a deny on part of the flow (a source port range, a CIDR) blocks it; an allow on part of it is not enough', () => {
    const partDeny = {
      name: 'DenyHighPorts',
      priority: 50,
      direction: 'Outbound',
      access: 'Deny',
      protocol: '*',
      sourceAddressPrefix: '*',
      sourcePortRange: '40000-65535',
      destinationAddressPrefix: '*',
      destinationPortRange: '443',
    };
    expect(
      nsgViolations({ securityRules: [...seedRules, partDeny] }, SUBNET).map((v) => v.flow.port),
    ).toEqual([443]);
    const narrowAllow = seedRules.map((r) =>
      r.name === 'AllowInternet80OutBound' ? { ...r, destinationAddressPrefix: '151.101.0.0/16' } : r,
    );
    expect(nsgViolations({ securityRules: narrowAllow }, SUBNET).map((v) => v.flow.port)).toEqual([80]);
  });

  it('UDP-only allows do not satisfy TCP flows; ranges and lists are honoured', () => {
    const udp = seedRules.map((r) => (r.name === 'AllowVNet22InBound' ? { ...r, protocol: 'Udp' } : r));
    expect(nsgViolations({ securityRules: udp }, SUBNET).map((v) => v.flow.port)).toEqual([22]);
    const ranged = seedRules.map((r) =>
      r.name === 'AllowVNet22InBound'
        ? { ...r, destinationPortRange: undefined, destinationPortRanges: ['21-23', '8080'] }
        : r,
    );
    expect(nsgViolations({ securityRules: ranged }, SUBNET)).toEqual([]);
  });

  it('a deny that only targets other addresses does not block the subnet', () => {
    const other = {
      name: 'DenyOtherSubnet',
      priority: 50,
      direction: 'Inbound',
      access: 'Deny',
      protocol: '*',
      sourceAddressPrefix: '*',
      sourcePortRange: '*',
      destinationAddressPrefix: '10.250.0.0/24',
      destinationPortRange: '*',
    };
    expect(nsgViolations({ securityRules: [...seedRules, other] }, SUBNET)).toEqual([]);
    const covering = { ...other, name: 'DenySupernet', destinationAddressPrefix: '10.240.0.0/16' };
    expect(nsgViolations({ securityRules: [...seedRules, covering] }, SUBNET)).toHaveLength(3);
  });

  it('rule order in the document does not matter, only priority (property)', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(seedRules, { minLength: seedRules.length }), (shuffled) => {
        expect(nsgViolations({ securityRules: shuffled }, SUBNET)).toEqual([]);
      }),
    );
  });

  it('adding allow rules never creates a violation (property)', () => {
    const ruleArb = fc.record({
      name: fc.constant('Extra'),
      priority: fc.integer({ min: 100, max: 4096 }),
      direction: fc.constantFrom('Inbound', 'Outbound'),
      access: fc.constant('Allow'),
      protocol: fc.constantFrom('Tcp', 'Udp', '*'),
      sourceAddressPrefix: fc.constantFrom('*', 'VirtualNetwork', '10.0.0.0/8', 'Internet'),
      sourcePortRange: fc.constantFrom('*', '1024-65535'),
      destinationAddressPrefix: fc.constantFrom('*', 'VirtualNetwork', '10.240.0.0/28', 'Internet'),
      destinationPortRange: fc.constantFrom('*', '22', '80', '443', '60001', '1-1000'),
    });
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 6 }), (extra) => {
        expect(nsgViolations({ securityRules: [...seedRules, ...extra] }, SUBNET)).toEqual([]);
      }),
    );
  });

  it('port range parsing', () => {
    expect(portRangeContains('*', 5)).toBe(true);
    expect(portRangeContains('22', 22)).toBe(true);
    expect(portRangeContains('20-23', 23)).toBe(true);
    expect(portRangeContains('20-23', 24)).toBe(false);
    expect(portRangeContains('garbage', 22)).toBe(false);
    expect(requiredFlows(SUBNET)).toHaveLength(6);
  });
});

describe('subnet capacity', () => {
  it('a /28 with no NICs has 11 free addresses; /29 is too small', () => {
    expect(subnetCapacity(['10.0.0.0/28'], 0).freeAddresses).toBe(11);
    expect(capacityProblems(subnetCapacity(['10.0.0.0/28'], 7))).toEqual([]);
    expect(capacityProblems(subnetCapacity(['10.0.0.0/28'], 8))[0]).toMatch(/3 free addresses.*needs 4/);
    expect(capacityProblems(subnetCapacity(['10.0.0.0/29'], 0))[0]).toMatch(/smaller than \/28/);
    expect(() => subnetCapacity(['fd00::/64'], 0)).toThrow(/IPv4/);
  });

  it('free = 2^(32-len) - 5 - used, never negative (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 29 }), fc.integer({ min: 0, max: 70000 }), (len, used) => {
        const c = subnetCapacity([`10.0.0.0/${len}`], used);
        expect(c.freeAddresses).toBe(Math.max(0, 2 ** (32 - len) - 5 - used));
        const ok = capacityProblems(c).length === 0;
        expect(ok).toBe(len <= 28 && c.freeAddresses >= 4);
      }),
    );
  });
});

describe('deterministic role assignment names', () => {
  const guid = fc.uuid();
  const scopeArb = fc.stringMatching(/^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[a-z0-9-]{1,20}$/);
  it('are stable, case-insensitive, GUID-shaped, and differ when any part differs (property)', () => {
    fc.assert(
      fc.property(scopeArb, guid, guid, guid, (scope, principal, role, other) => {
        const n = roleAssignmentName(scope, principal, role);
        expect(n).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(
          roleAssignmentName(
            scope.toUpperCase(),
            principal.toUpperCase(),
            `/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          ),
        ).toBe(n);
        fc.pre(other.toLowerCase() !== principal.toLowerCase() && other.toLowerCase() !== role.toLowerCase());
        expect(roleAssignmentName(scope, other, role)).not.toBe(n);
        expect(roleAssignmentName(scope, principal, other)).not.toBe(n);
        expect(roleAssignmentName(`${scope}x`, principal, role)).not.toBe(n);
      }),
    );
  });
});
