/**
 * A scenario: the Azure environment the ARM emulator starts with (and `--seed FILE` loads as JSON).
 * Everything is optional except what names the app's environment in `app`.
 */

export interface ScenarioSubnet {
  readonly name: string;
  readonly addressPrefix: string;
  /** 'Enabled' (Azure's default) or 'Disabled' (what Image Builder needs). */
  readonly privateLinkServiceNetworkPolicies?: 'Enabled' | 'Disabled';
  /** Name of a network security group of the scenario in the same resource group. */
  readonly networkSecurityGroup?: string;
  /** Addresses already used by other NICs (ipConfigurations count). */
  readonly ipConfigurationCount?: number;
  /** Services the subnet is delegated to, e.g. `Microsoft.ContainerInstance/containerGroups`. */
  readonly delegations?: readonly string[];
  /**
   * false: a private subnet (no implicit outbound IP; the default for new vnets created with Network API
   * 2025-07-01 and later, after 31 March 2026). Absent: Azure's older default, outbound access on.
   */
  readonly defaultOutboundAccess?: boolean;
  /** Name of a NAT gateway of the scenario in the same resource group (explicit outbound). */
  readonly natGateway?: string;
  /** Name of a route table of the scenario in the same resource group. */
  readonly routeTable?: string;
}

export interface ScenarioRoute {
  readonly name: string;
  readonly addressPrefix: string;
  readonly nextHopType: 'VirtualNetworkGateway' | 'VnetLocal' | 'Internet' | 'VirtualAppliance' | 'None';
  readonly nextHopIpAddress?: string;
}

export interface ScenarioSecurityRule {
  readonly name: string;
  readonly priority: number;
  readonly direction: 'Inbound' | 'Outbound';
  readonly access: 'Allow' | 'Deny';
  readonly protocol: string;
  readonly sourceAddressPrefix: string;
  readonly sourcePortRange?: string;
  readonly destinationAddressPrefix: string;
  readonly destinationPortRange: string;
  readonly description?: string;
}

export interface ScenarioRole {
  readonly guid: string;
  readonly roleName: string;
  readonly description?: string;
  readonly actions: readonly string[];
  readonly notActions?: readonly string[];
}

export interface ScenarioRoleAssignment {
  readonly scope: string;
  readonly roleDefinitionGuid: string;
  /** A principal object id, or an identity of the scenario. */
  readonly principal:
    | { readonly objectId: string }
    | { readonly identity: { readonly resourceGroup: string; readonly name: string } };
  readonly name?: string;
  /** An ABAC condition (version 2.0), as in delegated role assignment rights. */
  readonly condition?: string;
}

export interface Scenario {
  /**
   * Seconds before a role assignment change counts for authorization (GET/list show it at once): a number,
   * or `{min, max}` drawn per change from the seeded random source. Absent: 0 (what the tests use);
   * `npm run simulate` and `npm run local` use 30-600 (docs/emulator.md).
   */
  readonly rbacPropagationSeconds?: number | { readonly min: number; readonly max: number };
  /** Seed of the random source the emulator draws delays from (default 1): the same seed, the same delays. */
  readonly randomSeed?: number;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly location: string;
  readonly resourceGroups: readonly {
    readonly name: string;
    readonly location?: string;
    readonly tags?: Record<string, string>;
  }[];
  readonly networkSecurityGroups?: readonly {
    readonly resourceGroup: string;
    readonly name: string;
    readonly securityRules: readonly ScenarioSecurityRule[];
  }[];
  readonly natGateways?: readonly { readonly resourceGroup: string; readonly name: string }[];
  readonly routeTables?: readonly {
    readonly resourceGroup: string;
    readonly name: string;
    readonly routes: readonly ScenarioRoute[];
  }[];
  readonly virtualNetworks?: readonly {
    readonly resourceGroup: string;
    readonly name: string;
    readonly addressPrefixes: readonly string[];
    readonly subnets: readonly ScenarioSubnet[];
  }[];
  readonly identities?: readonly {
    readonly resourceGroup: string;
    readonly name: string;
    readonly principalId?: string;
    readonly clientId?: string;
  }[];
  readonly customRoles?: readonly ScenarioRole[];
  /**
   * Resource provider namespaces registered on the subscription (replaces the default list: Authorization,
   * Compute, ContainerInstance, KeyVault, ManagedIdentity, Network, Resources, Storage,
   * VirtualMachineImages). Isolated builds need Microsoft.ContainerInstance.
   */
  readonly registeredProviders?: readonly string[];
  readonly roleAssignments?: readonly ScenarioRoleAssignment[];
  /** Marketplace images and their versions. */
  readonly marketplace?: readonly {
    readonly publisher: string;
    readonly offer: string;
    readonly sku: string;
    readonly versions: readonly string[];
  }[];
  /** Object ids that exist in the directory (the app's own identity, operators). */
  readonly principals?: readonly string[];
  /** How the app is configured against this environment (used by appSettingsFor). */
  readonly app: {
    readonly imageBuilderResourceGroup: string;
    readonly destinationResourceGroup: string;
    readonly stagingResourceGroupPrefix: string;
    readonly buildSubnet: {
      readonly resourceGroup: string;
      readonly virtualNetwork: string;
      readonly subnet: string;
    };
    readonly builderIdentity: { readonly resourceGroup: string; readonly name: string };
    readonly networkJoinerRoleGuid: string;
    readonly imageContributorRoleGuid: string;
  };
}
