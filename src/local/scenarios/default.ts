/**
 * The default scenario: a valid environment for the app, after the seed runbook. Resource groups, a vnet
 * with a /28 build subnet (private-link service network policies Disabled) behind an NSG at least as
 * permissive as the runbook's tables, a NAT gateway for its outbound traffic (private subnet), the two least-privilege custom roles, the builder identity, and
 * marketplace versions of Ubuntu 22.04 and 24.04 (gen2).
 */
import { REALISTIC_RBAC_PROPAGATION } from '../arm-emulator/rbac-propagation.js';
import { LOCAL_APP_OBJECT_ID, LOCAL_TENANT_ID } from '../test-credential.js';
import type { Scenario } from './types.js';

export const DEFAULT_SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000001';
export const NETWORK_JOINER_ROLE_GUID = '6d8f2a52-1c5e-4b7a-9f0e-0a1b2c3d4e01';
export const IMAGE_CONTRIBUTOR_ROLE_GUID = '6d8f2a52-1c5e-4b7a-9f0e-0a1b2c3d4e02';

export const DEFAULT_SCENARIO: Scenario = {
  subscriptionId: DEFAULT_SUBSCRIPTION_ID,
  tenantId: LOCAL_TENANT_ID,
  location: 'eastus2',
  resourceGroups: [
    { name: 'rg-imagebuilders' },
    { name: 'rg-jumpbox-images' },
    { name: 'rg-enterprise-networking-spokes' },
  ],
  networkSecurityGroups: [
    {
      resourceGroup: 'rg-enterprise-networking-spokes',
      name: 'nsg-snet-imagebuilder',
      securityRules: [
        {
          name: 'AllowAzureLoadBalancer60001InBound',
          priority: 100,
          direction: 'Inbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: 'AzureLoadBalancer',
          destinationAddressPrefix: 'VirtualNetwork',
          destinationPortRange: '60001',
          description: 'Load balancer health probe to the AIB proxy VM',
        },
        {
          name: 'AllowVNet60001InBound',
          priority: 110,
          direction: 'Inbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: 'VirtualNetwork',
          destinationAddressPrefix: 'VirtualNetwork',
          destinationPortRange: '60001',
          description: 'AIB private link to the proxy VM',
        },
        {
          name: 'AllowVNet22InBound',
          priority: 120,
          direction: 'Inbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: 'VirtualNetwork',
          destinationAddressPrefix: 'VirtualNetwork',
          destinationPortRange: '22',
          description: 'Proxy VM to Packer VM over SSH',
        },
        {
          name: 'DenyAllInBound',
          priority: 1000,
          direction: 'Inbound',
          access: 'Deny',
          protocol: '*',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: '*',
          destinationPortRange: '*',
        },
        {
          name: 'Allow443ToInternetOutBound',
          priority: 100,
          direction: 'Outbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: 'VirtualNetwork',
          destinationAddressPrefix: 'Internet',
          destinationPortRange: '443',
        },
        {
          name: 'Allow80ToInternetOutBound',
          priority: 110,
          direction: 'Outbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: 'VirtualNetwork',
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
          destinationAddressPrefix: '*',
          destinationPortRange: '*',
        },
      ],
    },
  ],
  // Explicit outbound for the build subnet: new vnets get private subnets (defaultOutboundAccess false)
  // since Network API 2025-07-01 (31 March 2026), so the build VM reaches the internet through NAT.
  natGateways: [{ resourceGroup: 'rg-enterprise-networking-spokes', name: 'ng-imagebuilder' }],
  virtualNetworks: [
    {
      resourceGroup: 'rg-enterprise-networking-spokes',
      name: 'vnet-imagebuilder',
      addressPrefixes: ['10.240.0.0/24'],
      subnets: [
        {
          name: 'snet-imagebuilder',
          addressPrefix: '10.240.0.0/28',
          privateLinkServiceNetworkPolicies: 'Disabled',
          networkSecurityGroup: 'nsg-snet-imagebuilder',
          defaultOutboundAccess: false,
          natGateway: 'ng-imagebuilder',
        },
      ],
    },
  ],
  identities: [{ resourceGroup: 'rg-imagebuilders', name: 'id-aib-jumpbox-builder' }],
  customRoles: [
    {
      guid: NETWORK_JOINER_ROLE_GUID,
      roleName: '[Custom] Image Builder Network Joiner',
      description:
        'Lets Azure Image Builder join its build and proxy VMs to a subnet of the virtual network.',
      actions: [
        'Microsoft.Network/virtualNetworks/read',
        'Microsoft.Network/virtualNetworks/subnets/join/action',
      ],
    },
    {
      guid: IMAGE_CONTRIBUTOR_ROLE_GUID,
      roleName: '[Custom] Image Builder Image Contributor',
      description: 'Lets Azure Image Builder create, read and delete images and gallery image versions.',
      actions: [
        'Microsoft.Compute/images/write',
        'Microsoft.Compute/images/read',
        'Microsoft.Compute/images/delete',
        'Microsoft.Compute/galleries/read',
        'Microsoft.Compute/galleries/images/read',
        'Microsoft.Compute/galleries/images/versions/read',
        'Microsoft.Compute/galleries/images/versions/write',
      ],
    },
  ],
  marketplace: [
    {
      publisher: 'Canonical',
      offer: '0001-com-ubuntu-server-jammy',
      sku: '22_04-lts-gen2',
      versions: ['22.04.202409030', '22.04.202410020', '22.04.202411010', '22.04.202501100'],
    },
    {
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      versions: ['24.04.202409120', '24.04.202410090', '24.04.202411030', '24.04.202501140'],
    },
  ],
  principals: [LOCAL_APP_OBJECT_ID],
  app: {
    imageBuilderResourceGroup: 'rg-imagebuilders',
    destinationResourceGroup: 'rg-jumpbox-images',
    stagingResourceGroupPrefix: 'rg-jumpbox-staging-',
    buildSubnet: {
      resourceGroup: 'rg-enterprise-networking-spokes',
      virtualNetwork: 'vnet-imagebuilder',
      subnet: 'snet-imagebuilder',
    },
    builderIdentity: { resourceGroup: 'rg-imagebuilders', name: 'id-aib-jumpbox-builder' },
    networkJoinerRoleGuid: NETWORK_JOINER_ROLE_GUID,
    imageContributorRoleGuid: IMAGE_CONTRIBUTOR_ROLE_GUID,
  },
};

/**
 * The scenario `npm run simulate` and `npm run local` start from (and `cli scenario --print-default`
 * prints): the default scenario with role assignments that take 30 s to 10 min to count, as in Azure.
 */
export const CLI_DEFAULT_SCENARIO: Scenario = {
  rbacPropagationSeconds: REALISTIC_RBAC_PROPAGATION,
  randomSeed: 1,
  ...DEFAULT_SCENARIO,
};
