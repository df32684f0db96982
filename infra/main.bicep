// Jump-box image builder: everything the Durable Functions app needs in Azure, deployed at subscription scope
// (azd provision, or az deployment sub create). The build subnet is brought by you and is not created here.
//
//   resource groups   app (+ builder identity), image builder (templates), destination (images), staging (one per
//                     image definition, so Image Builder's logs have a known home)
//   custom roles      Network Joiner, Image Contributor (the runbook's two least-privilege roles), Builder App Reader
//   app               Flex Consumption Function App (Node 22), its user-assigned identity, storage without shared
//                     keys, Application Insights with Entra-only ingestion
//   app's rights      see the "Role assignments of the app" section below; delegation is limited by ABAC conditions
targetScope = 'subscription'

import { builtInRoles, delegatedAssignmentCondition } from 'lib/roles.bicep'
import { galleryIdOfImage, vnetIdOfSubnet } from 'lib/names.bicep'
import { callerAuthenticationSettings } from 'modules/function-app.bicep'

// ---------------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------------

@description('Name of the environment (azd sets it from AZURE_ENV_NAME); used in resource names and tags.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Region of every resource, and the region Image Builder runs in: it must support Image Builder and Flex Consumption and be the region of the build virtual network.')
param location string

@description('Resource id of the bring-your-own build subnet: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}. Same subscription; /28 or larger; privateLinkServiceNetworkPolicies Disabled.')
@minLength(90)
param buildSubnetId string

@description('Image definitions as the app reads them from IMAGE_DEFINITIONS (schema: src/image/definition.ts). Each gets a staging resource group; a definition with its own buildSubnetId also gets the vnet rights.')
@minLength(1)
param imageDefinitions imageDefinition[] = [
  { name: 'aks-jumpbox' }
]

@description('Resource group of the Function App, its storage, identity and monitoring.')
@minLength(1)
@maxLength(90)
param appResourceGroupName string = 'rg-${environmentName}'

@description('Resource group of the image templates (IMAGE_BUILDER_RESOURCE_GROUP).')
@minLength(1)
@maxLength(90)
param imageBuilderResourceGroupName string = 'rg-${environmentName}-imagebuilder'

@description('Resource group that receives the built images (IMAGE_DESTINATION_RESOURCE_GROUP). Must differ from the image builder group.')
@minLength(1)
@maxLength(90)
param imageDestinationResourceGroupName string = 'rg-${environmentName}-images'

@description('Prefix of the per-definition staging resource groups (STAGING_RESOURCE_GROUP_PREFIX); the group of definition "d" is prefix + "d".')
@minLength(1)
@maxLength(56)
param stagingResourceGroupPrefix string = 'rg-${environmentName}-staging-'

@description('Name of the blob container for archived Image Builder logs (ARCHIVE_CONTAINER).')
@minLength(3)
@maxLength(63)
param archiveContainerName string = 'aib-logs'

@description('Archived logs older than this many days are deleted; 0 keeps them forever.')
@minValue(0)
param archiveRetentionDays int = 365

@description('Name of the table for build records (RECORDS_TABLE_NAME).')
@minLength(3)
@maxLength(63)
param recordsTableName string = 'builds'

@description('Durable Functions task hub name: 3-45 letters and digits, starting with a letter.')
@minLength(3)
@maxLength(45)
param durableTaskHubName string = 'JumpboxBuilder'

@description('NCRONTAB schedule of the monthly rebuild of every definition (MONTHLY_REBUILD_SCHEDULE).')
param monthlyRebuildSchedule string = '0 0 3 1 * *'

@description('NCRONTAB schedule of the base-image update check (BASE_IMAGE_CHECK_SCHEDULE).')
param baseImageCheckSchedule string = '0 0 */6 * * *'

@description('NCRONTAB schedule of the janitor that revokes leftover grants (JANITOR_SCHEDULE).')
param janitorSchedule string = '0 */15 * * * *'

@description('Shortest interval between two status polls of a running build, in seconds (POLL_MIN_INTERVAL_SECONDS).')
@minValue(5)
@maxValue(3600)
param pollMinIntervalSeconds int = 30

@description('Longest interval between two status polls of a running build, in seconds (POLL_MAX_INTERVAL_SECONDS).')
@minValue(5)
@maxValue(3600)
param pollMaxIntervalSeconds int = 300

@description('Expected build duration before any history exists, in minutes (EXPECTED_BUILD_MINUTES).')
@minValue(1)
@maxValue(960)
param expectedBuildMinutes int = 35

@description('Minutes over which the monthly rebuild starts its builds, at most 16 at once; 0 starts all at once (FLEET_START_SPREAD_MINUTES).')
@minValue(0)
@maxValue(240)
param fleetStartSpreadMinutes int = 10

@description('Minutes after a definition\'s build timeout before the orchestration cancels the run (DEADLINE_MARGIN_MINUTES).')
@minValue(0)
@maxValue(240)
param deadlineMarginMinutes int = 15

@description('Longest wait, in minutes, for the Image Contributor grant to take effect before a build fails (GRANT_PROPAGATION_TIMEOUT_MINUTES).')
@minValue(1)
@maxValue(240)
param grantPropagationTimeoutMinutes int = 30

@description('Managed images or gallery versions kept per definition after a successful build (IMAGE_RETENTION_COUNT).')
@minValue(1)
@maxValue(100)
param imageRetentionCount int = 3

@description('Subnet delegated to Microsoft.ContainerInstance/containerGroups for isolated builds (CONTAINER_INSTANCE_SUBNET_ID); empty for the proxy-VM mode.')
param containerInstanceSubnetId string = ''

@description('Optional https:// download mirror the build subnet can reach instead of the internet (DOWNLOAD_MIRROR_URL); empty for none.')
param downloadMirrorUrl string = ''

@description('Optional https:// webhook notified when a build ends (NOTIFICATION_WEBHOOK_URL); empty for none. Secure because such URLs often embed a token.')
@secure()
param notificationWebhookUrl string = ''

@description('Other resource groups the preflight must read, e.g. where the build subnet\'s NSG or route table live.')
param networkReaderResourceGroups string[] = []

@description('Deliver gallery image version events to the app (base-image updates of gallery sources). Turn on after the app code is deployed once: the event subscription points at its baseImageEvent function.')
param subscribeToGalleryImageEvents bool = false

@description('The subscription\'s existing Event Grid system topic (only one may exist per subscription), or null to create one in the app group.')
param existingSubscriptionSystemTopic systemTopicRef?

@description('Limit the app\'s delegated role assignments to the builder identity as well as to the allowed roles (recommended).')
param restrictDelegationToBuilderIdentity bool = true

@description('Redundancy of the app storage account.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSkuName string = 'Standard_LRS'

@description('Upper bound of Function App instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each Function App instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Node.js version of the Function App (Flex Consumption functionAppConfig.runtime.version). 22 is the tested runtime; 24 is offered by Flex Consumption as well (see docs/deploying.md).')
@allowed(['22', '24'])
param nodeVersion string = '22'

@description('Always-ready instances for the "durable" trigger group (0 = none, cheapest; 1 = the Flex guidance for Durable Functions: orchestrations and activities start without a cold start).')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int = 1

@description('Azure Compute Gallery ids (/subscriptions/…/galleries/<g>) that image definitions use as sources, beyond those named in imageDefinitions: the app and the builder identity get Reader there.')
param sourceGalleryIds string[] = []

@description('Azure Compute Gallery ids that image definitions distribute to, beyond those named in imageDefinitions: the app may grant the builder identity Image Contributor there just in time.')
param destinationGalleryIds string[] = []

@description('Private networking, or null (default) for public endpoints. See docs/deploying.md for what each part costs.')
param privateNetworking privateNetworkingSettings?

@description('Microsoft Entra ID for callers of the HTTP API (App Service Authentication), or null (default) for function keys only.')
param callerAuthentication callerAuthenticationSettings?

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Extra tags for every resource group and resource.')
param extraTags object = {}

@description('An image definition as the app reads it; only name and buildSubnetId matter to the infrastructure.')
type imageDefinition = {
  @description('3-32 lowercase letters, digits and hyphens, starting with a letter.')
  @minLength(3)
  @maxLength(32)
  name: string

  @description('Overrides the build subnet for this definition (same subscription).')
  buildSubnetId: string?

  // The rest of the schema (source, vmSize, osDiskSizeGB, buildTimeoutInMinutes, tags) belongs to the app, which
  // validates it at start-up; the infrastructure passes it through unchanged.
  #disable-next-line no-explicit-any
  *: any
}

@description('Private networking of the app: outbound VNet integration and, optionally, storage reachable only through private endpoints.')
type privateNetworkingSettings = {
  @description('Subnet for the Function App\'s outbound VNet integration: delegated to Microsoft.App/environments, /27 or larger, not used by anything else.')
  appSubnetId: string

  @description('Subnet for the storage account\'s private endpoints (blob, queue, table); set it to disable the storage account\'s public network access. Needs appSubnetId in the same or a peered network.')
  privateEndpointSubnetId: string?

  @description('Existing private DNS zones {blob, queue, table} (ids) when a hub already hosts privatelink zones; omit to create them in the app group and link them to the endpoint subnet\'s network.')
  privateDnsZoneIds: object?
}

@description('An existing Event Grid system topic of type Microsoft.Resources.Subscriptions.')
type systemTopicRef = {
  name: string
  resourceGroup: string
}

// ---------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = union(extraTags, { 'azd-env-name': environmentName })
var deploymentPrefix = take('jumpbox-${environmentName}', 32)

var names = {
  appIdentity: 'id-jumpbox-app-${resourceToken}'
  builderIdentity: 'id-jumpbox-builder-${resourceToken}'
  storage: 'stjumpbox${take(resourceToken, 13)}'
  logAnalytics: 'log-jumpbox-${resourceToken}'
  applicationInsights: 'appi-jumpbox-${resourceToken}'
  plan: 'plan-jumpbox-${resourceToken}'
  functionApp: 'func-jumpbox-${resourceToken}'
  systemTopic: 'evgt-jumpbox-${resourceToken}'
  // The subscription's system topic is shared by every environment: one event subscription per environment.
  eventSubscription: 'evgs-jumpbox-${resourceToken}'
  deploymentContainer: 'app-package'
}

var stagingResourceGroupNames = map(imageDefinitions, d => '${stagingResourceGroupPrefix}${d.name}')

// Every subnet a build may run in, then the distinct virtual networks and their resource groups.
var definitionSubnetIds = filter(map(imageDefinitions, d => d.?buildSubnetId ?? ''), id => !empty(id))
var buildVnetIds = union(map(concat([buildSubnetId], definitionSubnetIds), id => vnetIdOfSubnet(id)), [])
// Galleries the definitions read from (sources) and publish to (destinations), plus those listed explicitly.
var sourceGalleries = union(
  map(
    filter(map(imageDefinitions, d => string(d.?source.?galleryImageId ?? '')), id => !empty(id)),
    id => galleryIdOfImage(id)
  ),
  map(sourceGalleryIds, id => toLower(id))
)
var destinationGalleries = union(
  map(
    filter(map(imageDefinitions, d => string(d.?distribute.?gallery.?imageDefinitionId ?? '')), id => !empty(id)),
    id => galleryIdOfImage(id)
  ),
  map(destinationGalleryIds, id => toLower(id))
)

var buildVnetResourceGroups = union(
  map(buildVnetIds, id => split(id, '/')[4]),
  map(networkReaderResourceGroups, rg => toLower(rg))
)

// ---------------------------------------------------------------------------------------------------------------
// Resource groups and custom roles
// ---------------------------------------------------------------------------------------------------------------

resource appRg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: appResourceGroupName
  location: location
  tags: tags
}

resource imageBuilderRg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: imageBuilderResourceGroupName
  location: location
  tags: tags
}

resource destinationRg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: imageDestinationResourceGroupName
  location: location
  tags: tags
}

// Image Builder requires a user-provided staging group to be empty when the template is created.
resource stagingRgs 'Microsoft.Resources/resourceGroups@2024-03-01' = [
  for name in stagingResourceGroupNames: {
    name: name
    location: location
    tags: tags
  }
]

module customRoles 'modules/custom-roles.bicep' = {
  name: '${deploymentPrefix}-custom-roles'
  params: {
    nameSuffix: environmentName
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Identities, storage, monitoring, Function App
// ---------------------------------------------------------------------------------------------------------------

module appIdentity 'modules/app-identity.bicep' = {
  name: '${deploymentPrefix}-app-identity'
  scope: appRg
  params: {
    name: names.appIdentity
    location: location
    tags: tags
  }
}

// In the app's group, not the image builder group: there the app is Contributor and could otherwise add a federated
// credential to the builder identity and act as it. Here it can only read and attach it.
module builderIdentity 'modules/builder-identity.bicep' = {
  name: '${deploymentPrefix}-builder-identity'
  scope: appRg
  params: {
    name: names.builderIdentity
    location: location
    tags: tags
    appPrincipalId: appIdentity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: '${deploymentPrefix}-storage'
  scope: appRg
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: names.deploymentContainer
    archiveContainerName: archiveContainerName
    recordsTableName: recordsTableName
    archiveRetentionDays: archiveRetentionDays
    publicNetworkAccess: privateNetworking.?privateEndpointSubnetId == null
  }
}

module storagePrivateEndpoints 'modules/storage-private-endpoints.bicep' = if (privateNetworking.?privateEndpointSubnetId != null) {
  name: '${deploymentPrefix}-storage-private-endpoints'
  scope: appRg
  params: {
    storageAccountId: storage.outputs.id
    location: location
    tags: tags
    subnetId: privateNetworking.?privateEndpointSubnetId ?? ''
    existingDnsZoneIds: privateNetworking.?privateDnsZoneIds
  }
}

module storageDataAccess 'modules/storage-data-access.bicep' = {
  name: '${deploymentPrefix}-storage-data-access'
  scope: appRg
  params: {
    storageAccountName: storage.outputs.name
    appPrincipalId: appIdentity.outputs.principalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: '${deploymentPrefix}-monitoring'
  scope: appRg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    appPrincipalId: appIdentity.outputs.principalId
  }
}

// Build alerts (failed build, grant left after the janitor, no success in 35 days) and the builds workbook.
module buildMonitoring 'modules/build-monitoring.bicep' = {
  name: '${deploymentPrefix}-build-monitoring'
  scope: appRg
  params: {
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    environmentName: environmentName
  }
}

// Every setting the app reads (src/config.ts SETTINGS) except ARM_CA_CERT_PATH, which only the local
// stand-ins use. test/infra/app-settings.test.ts keeps this list and SETTINGS in step.
var appSettings = {
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  AZURE_LOCATION: location
  IMAGE_BUILDER_RESOURCE_GROUP: imageBuilderRg.name
  IMAGE_DESTINATION_RESOURCE_GROUP: destinationRg.name
  STAGING_RESOURCE_GROUP_PREFIX: stagingResourceGroupPrefix
  BUILD_SUBNET_ID: buildSubnetId
  BUILDER_IDENTITY_ID: builderIdentity.outputs.id
  BUILDER_IDENTITY_CREATE: 'false'
  NETWORK_JOINER_ROLE_ID: customRoles.outputs.networkJoinerRoleId
  IMAGE_CONTRIBUTOR_ROLE_ID: customRoles.outputs.imageContributorRoleId
  ARCHIVE_STORAGE_ACCOUNT_URL: storage.outputs.blobEndpoint
  ARCHIVE_CONTAINER: archiveContainerName
  RECORDS_TABLE_ENDPOINT: storage.outputs.tableEndpoint
  RECORDS_TABLE_NAME: recordsTableName
  MONTHLY_REBUILD_SCHEDULE: monthlyRebuildSchedule
  FLEET_START_SPREAD_MINUTES: string(fleetStartSpreadMinutes)
  BASE_IMAGE_CHECK_SCHEDULE: baseImageCheckSchedule
  JANITOR_SCHEDULE: janitorSchedule
  IMAGE_DEFINITIONS: string(imageDefinitions)
  POLL_MIN_INTERVAL_SECONDS: string(pollMinIntervalSeconds)
  POLL_MAX_INTERVAL_SECONDS: string(pollMaxIntervalSeconds)
  EXPECTED_BUILD_MINUTES: string(expectedBuildMinutes)
  DEADLINE_MARGIN_MINUTES: string(deadlineMarginMinutes)
  GRANT_PROPAGATION_TIMEOUT_MINUTES: string(grantPropagationTimeoutMinutes)
  IMAGE_RETENTION_COUNT: string(imageRetentionCount)
  GALLERY_RESOURCE_GROUPS: join(union(map(concat(sourceGalleries, destinationGalleries), id => split(id, '/')[4]), []), ',')
  CONTAINER_INSTANCE_SUBNET_ID: containerInstanceSubnetId
  DOWNLOAD_MIRROR_URL: downloadMirrorUrl
  NOTIFICATION_WEBHOOK_URL: notificationWebhookUrl
  AZURE_CLIENT_ID: appIdentity.outputs.clientId
  ARM_ENDPOINT: environment().resourceManager
}

module functionApp 'modules/function-app.bicep' = {
  name: '${deploymentPrefix}-function-app'
  scope: appRg
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    identityId: appIdentity.outputs.id
    identityClientId: appIdentity.outputs.clientId
    storageEndpoints: {
      blob: storage.outputs.blobEndpoint
      queue: storage.outputs.queueEndpoint
      table: storage.outputs.tableEndpoint
    }
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    durableTaskHubName: durableTaskHubName
    appSettings: appSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    nodeVersion: nodeVersion
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    virtualNetworkSubnetId: privateNetworking.?appSubnetId ?? ''
    callerAuthentication: callerAuthentication
  }
  // The host needs its storage rights (and, with private storage, its private endpoints) before its first start.
  dependsOn: [storageDataAccess, storagePrivateEndpoints]
}

module galleryImageEvents 'modules/gallery-image-events.bicep' = if (subscribeToGalleryImageEvents) {
  name: '${deploymentPrefix}-gallery-image-events'
  scope: resourceGroup(existingSubscriptionSystemTopic.?resourceGroup ?? appRg.name)
  params: {
    systemTopicName: existingSubscriptionSystemTopic.?name ?? names.systemTopic
    eventSubscriptionName: names.eventSubscription
    createSystemTopic: existingSubscriptionSystemTopic == null
    functionResourceId: '${functionApp.outputs.id}/functions/baseImageEvent'
    tags: tags
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Role assignments of the app (its Managed Identity Operator right is in modules/builder-identity.bicep, its
// storage and telemetry rights in modules/storage-data-access.bicep and modules/monitoring.bicep)
// ---------------------------------------------------------------------------------------------------------------

var appPrincipalId = appIdentity.outputs.principalId
var delegationPrincipals = restrictDelegationToBuilderIdentity ? [builderIdentity.outputs.principalId] : []
var delegationTargets = restrictDelegationToBuilderIdentity
  ? 'only to the builder identity (service principal)'
  : 'only to service principals'

// Preflight reads the subnet, its NSG and route table (in the vnet's group or in networkReaderResourceGroups).
module vnetReader 'modules/rbac/resource-group-role.bicep' = [
  for (rg, i) in buildVnetResourceGroups: {
    name: '${deploymentPrefix}-vnet-reader-${i}'
    scope: resourceGroup(rg)
    params: {
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.reader
      purpose: 'Jump-box builder app: preflight reads the build subnet, its NSG and route table.'
    }
  }
]

// The app assigns Network Joiner to the builder identity on each build vnet, and nothing else.
module vnetDelegation 'modules/rbac/virtual-network-role.bicep' = [
  for (vnetId, i) in buildVnetIds: {
    name: '${deploymentPrefix}-vnet-delegation-${i}'
    scope: resourceGroup(split(vnetId, '/')[4])
    params: {
      virtualNetworkName: split(vnetId, '/')[8]
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.roleBasedAccessControlAdministrator
      purpose: 'Jump-box builder app: may assign only Network Joiner, ${delegationTargets}.'
      condition: delegatedAssignmentCondition([customRoles.outputs.networkJoinerRoleGuid], delegationPrincipals)
    }
  }
]

// Image templates are created, run, cancelled and deleted here.
module imageBuilderContributor 'modules/rbac/resource-group-role.bicep' = {
  name: '${deploymentPrefix}-imagebuilder-contributor'
  scope: imageBuilderRg
  params: {
    principalId: appPrincipalId
    roleDefinitionGuid: builtInRoles.contributor
    purpose: 'Jump-box builder app: manages image templates.'
  }
}

// Just-in-time Image Contributor for the builder identity: granted before a run, revoked after it.
module destinationDelegation 'modules/rbac/resource-group-role.bicep' = {
  name: '${deploymentPrefix}-destination-delegation'
  scope: destinationRg
  params: {
    principalId: appPrincipalId
    roleDefinitionGuid: builtInRoles.roleBasedAccessControlAdministrator
    purpose: 'Jump-box builder app: may assign only Image Contributor, ${delegationTargets}.'
    condition: delegatedAssignmentCondition([customRoles.outputs.imageContributorRoleGuid], delegationPrincipals)
  }
}

// The app tags each built image with its build id; tags only, no access to the images themselves. (A tag update
// through the Tags API needs only this; a PUT of the image would need Microsoft.Compute/images/write.)
module destinationTagger 'modules/rbac/resource-group-role.bicep' = {
  name: '${deploymentPrefix}-destination-tagger'
  scope: destinationRg
  params: {
    principalId: appPrincipalId
    roleDefinitionGuid: builtInRoles.tagContributor
    purpose: 'Jump-box builder app: tags built images with their build id.'
  }
}

// Image Builder needs Contributor on a user-provided staging group; the app grants it to the builder identity.
module stagingDelegation 'modules/rbac/resource-group-role.bicep' = [
  for (name, i) in stagingResourceGroupNames: {
    name: '${deploymentPrefix}-staging-delegation-${i}'
    scope: resourceGroup(name)
    params: {
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.roleBasedAccessControlAdministrator
      purpose: 'Jump-box builder app: may assign only Contributor, ${delegationTargets}.'
      condition: delegatedAssignmentCondition([builtInRoles.contributor], delegationPrincipals)
    }
    dependsOn: [stagingRgs]
  }
]

// Image Builder writes packerlogs/<run>/customization.log to a storage account in the staging group.
module stagingLogReader 'modules/rbac/resource-group-role.bicep' = [
  for (name, i) in stagingResourceGroupNames: {
    name: '${deploymentPrefix}-staging-logs-${i}'
    scope: resourceGroup(name)
    params: {
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.storageBlobDataReader
      purpose: 'Jump-box builder app: reads Image Builder logs to archive them.'
    }
    dependsOn: [stagingRgs]
  }
]

// Gallery sources: the app resolves their versions, the builder identity (Image Builder) reads the source image.
module sourceGalleryAppReader 'modules/rbac/gallery-role.bicep' = [
  for (galleryId, i) in sourceGalleries: {
    name: '${deploymentPrefix}-src-gallery-app-${i}'
    scope: resourceGroup(split(galleryId, '/')[2], split(galleryId, '/')[4])
    params: {
      galleryName: split(galleryId, '/')[8]
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.reader
      purpose: 'Jump-box builder app: resolves the versions of gallery source images.'
    }
  }
]

module sourceGalleryBuilderReader 'modules/rbac/gallery-role.bicep' = [
  for (galleryId, i) in sourceGalleries: {
    name: '${deploymentPrefix}-src-gallery-builder-${i}'
    scope: resourceGroup(split(galleryId, '/')[2], split(galleryId, '/')[4])
    params: {
      galleryName: split(galleryId, '/')[8]
      principalId: builderIdentity.outputs.principalId
      roleDefinitionGuid: builtInRoles.reader
      purpose: 'Jump-box image builder identity: Image Builder reads the gallery source image.'
    }
  }
]

// Gallery destinations: the same just-in-time Image Contributor grant as on the destination group.
module destinationGalleryDelegation 'modules/rbac/gallery-role.bicep' = [
  for (galleryId, i) in destinationGalleries: {
    name: '${deploymentPrefix}-dest-gallery-${i}'
    scope: resourceGroup(split(galleryId, '/')[2], split(galleryId, '/')[4])
    params: {
      galleryName: split(galleryId, '/')[8]
      principalId: appPrincipalId
      roleDefinitionGuid: builtInRoles.roleBasedAccessControlAdministrator
      purpose: 'Jump-box builder app: may assign only Image Contributor, ${delegationTargets}.'
      condition: delegatedAssignmentCondition([customRoles.outputs.imageContributorRoleGuid], delegationPrincipals)
    }
  }
]

// Subscription-level reads: marketplace image versions (base-image watcher), role definitions (preflight).
module builderAppReader 'modules/rbac/subscription-role.bicep' = {
  name: '${deploymentPrefix}-builder-app-reader'
  params: {
    principalId: appPrincipalId
    roleDefinitionGuid: customRoles.outputs.builderAppReaderRoleGuid
    purpose: 'Jump-box builder app: lists marketplace image versions and reads role definitions.'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment)
// ---------------------------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = appRg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_HOSTNAME string = functionApp.outputs.defaultHostName
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
// The audience the CLI asks tokens for (jumpbox-builder build --auth entra --audience ...); empty without Entra ID.
output API_AUDIENCE string = callerAuthentication == null ? '' : 'api://${callerAuthentication!.clientId}'
output APP_IDENTITY_ID string = appIdentity.outputs.id
output APP_IDENTITY_CLIENT_ID string = appIdentity.outputs.clientId
output APP_IDENTITY_PRINCIPAL_ID string = appIdentity.outputs.principalId
output BUILDER_IDENTITY_ID string = builderIdentity.outputs.id
output BUILDER_IDENTITY_PRINCIPAL_ID string = builderIdentity.outputs.principalId
output NETWORK_JOINER_ROLE_ID string = customRoles.outputs.networkJoinerRoleId
output IMAGE_CONTRIBUTOR_ROLE_ID string = customRoles.outputs.imageContributorRoleId
output IMAGE_BUILDER_RESOURCE_GROUP string = imageBuilderRg.name
output IMAGE_DESTINATION_RESOURCE_GROUP string = destinationRg.name
output STAGING_RESOURCE_GROUP_NAMES string[] = stagingResourceGroupNames
output ARCHIVE_STORAGE_ACCOUNT_URL string = storage.outputs.blobEndpoint
