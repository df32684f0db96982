import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizeRoleDefinitionId,
  parseResourceId,
  parseSubnetId,
  ResourceIdError,
  roleDefinitionGuid,
} from '../../src/azure/resource-id.js';

const name = fc.stringMatching(/^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,20}[a-zA-Z0-9]$/);

describe('resource ids', () => {
  it('parses any well-formed subnet id into its parts and back', () => {
    fc.assert(
      fc.property(fc.uuid(), name, name, name, (sub, rg, vnet, snet) => {
        const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${snet}`;
        const p = parseSubnetId(id);
        expect(p).toMatchObject({
          subscriptionId: sub,
          resourceGroup: rg,
          virtualNetwork: vnet,
          subnet: snet,
        });
        expect(`${p.virtualNetworkId}/subnets/${snet}`).toBe(id);
      }),
    );
  });

  it('is case-insensitive on keywords and provider, as ARM is', () => {
    const p = parseSubnetId(
      '/SUBSCRIPTIONS/00000000-0000-4000-8000-000000000001/RESOURCEGROUPS/rg/PROVIDERS/microsoft.network/VIRTUALNETWORKS/v/SUBNETS/s',
    );
    expect(p.subnet).toBe('s');
  });

  it('rejects malformed ids with a message that says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['snet-imagebuilder', /full resource id/],
      [
        '/subscriptions/xyz/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s',
        /subscription GUID/,
      ],
      [
        '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v',
        /Microsoft.Network\/virtualNetworks\/subnets/,
      ],
      [
        '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/',
        /full resource id|empty/,
      ],
    ];
    for (const [id, message] of cases) {
      expect(() => parseSubnetId(id)).toThrow(ResourceIdError);
      expect(() => parseSubnetId(id)).toThrow(message);
    }
  });

  it('never throws anything but ResourceIdError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseResourceId(s);
        } catch (e) {
          expect(e).toBeInstanceOf(ResourceIdError);
        }
      }),
    );
  });

  it('normalises role definition ids from either form', () => {
    const sub = '00000000-0000-4000-8000-000000000001';
    const guid = 'B24988AC-6180-42A0-AB88-20F7382DD24C';
    const expected = `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`;
    expect(normalizeRoleDefinitionId(guid, sub)).toBe(expected);
    expect(normalizeRoleDefinitionId(`/providers/Microsoft.Authorization/roleDefinitions/${guid}`, sub)).toBe(
      expected,
    );
    expect(roleDefinitionGuid(expected)).toBe(guid.toLowerCase());
    expect(() => normalizeRoleDefinitionId('Contributor', sub)).toThrow(/role definition GUID/);
  });
});
