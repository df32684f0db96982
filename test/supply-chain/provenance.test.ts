/**
 * The provenance record (src/supply-chain/provenance.ts): the scripts' SHA-256 are the ones the template's
 * inline runners check on the build VM; tools come from the VM's tools.lock when it reported them, else
 * from the manifest (and say so); a gallery source is named by its image id.
 */
import { describe, expect, it } from 'vitest';
import { parseImageDefinition } from '../../src/image/definition.js';
import { buildTemplateBody } from '../../src/image/template-body.js';
import { buildProvenance, parseToolsLock } from '../../src/supply-chain/provenance.js';

const SUB = '11111111-2222-3333-4444-555555555555';
const def = parseImageDefinition({ name: 'aks-jumpbox' });
const base = {
  definition: def,
  buildId: 'aks-jumpbox.20261201T030000Z.0000abcd',
  result: 'Succeeded',
  requestedAt: '2026-12-01T03:00:00.000Z',
  recordedAt: '2026-12-01T03:49:00.000Z',
  sourceVersion: '24.04.202511060',
  templateName: 'aks-jumpbox-09842c52dc37',
  templateContentHash: '0'.repeat(64),
};

describe('provenance record', () => {
  it("lists each customizer's SHA-256 exactly as the template's inline runner checks it", () => {
    const body = buildTemplateBody({
      definition: def,
      sourceVersion: base.sourceVersion,
      location: 'eastus2',
      builderIdentityId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id`,
      subnetId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s`,
      stagingResourceGroupId: `/subscriptions/${SUB}/resourceGroups/rg-staging`,
      destinationResourceGroup: 'rg-images',
      subscriptionId: SUB,
    });
    const checked = [...(body.customize ?? []), ...(body.validate?.inVMValidations ?? [])].map((c) => {
      const inline = (c as unknown as { inline: string[] }).inline[0]!;
      return { name: c.name, sha256: /echo '([0-9a-f]{64}) {2}/.exec(inline)?.[1] };
    });
    const p = buildProvenance(base);
    expect(p.scripts.map((s) => ({ name: s.name, sha256: s.sha256 }))).toEqual(checked);
  });

  it('takes tools from the VM tools.lock when reported, from the manifest otherwise', () => {
    const sha = 'f'.repeat(64);
    const lock = `kubectl\t1.33.8\t${sha}\thttps://dl.k8s.io/release/v1.33.8/bin/linux/amd64/kubectl\nazure-cli\t2.67.0\t-\tapt:https://packages.microsoft.com/repos/azure-cli/\nbroken line\n`;
    expect(parseToolsLock(lock)).toHaveLength(2);
    const p = buildProvenance({ ...base, toolsLock: lock });
    expect(p.tools.find((t) => t.id === 'kubectl')).toMatchObject({ sha256: sha, reportedByVm: true });
    expect(p.tools.find((t) => t.id === 'azure-cli')).toMatchObject({ sha256: null, reportedByVm: true });
    expect(p.tools.find((t) => t.id === 'helm')).toMatchObject({ reportedByVm: false });
    expect(p.source).toEqual({
      type: 'PlatformImage',
      image: 'Canonical:ubuntu-24_04-lts:server',
      version: '24.04.202511060',
    });
  });
});
