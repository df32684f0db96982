// The Function App on the Flex Consumption plan (Linux, Node 22), running as the app's user-assigned identity.
// Host storage, the deployment package and telemetry all authenticate with that identity: no keys anywhere.
param planName string
param appName string
param location string
param tags object

@description('Resource id of the app\'s user-assigned identity.')
param identityId string

@description('Client id of the app\'s user-assigned identity.')
param identityClientId string

@description('Blob, queue and table endpoints of the host storage account (its properties.primaryEndpoints): explicit service URIs work in every Azure cloud, where an account name alone makes the host assume the public cloud suffix.')
param storageEndpoints storageEndpointSet

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

@description('Application Insights connection string (not a secret; ingestion needs an Entra token).')
param applicationInsightsConnectionString string

@description('Durable Functions task hub name (host.json reads %DURABLE_TASK_HUB_NAME%).')
param durableTaskHubName string

@description('The app\'s own settings (see src/config.ts SETTINGS); secure because a webhook URL may carry a token.')
@secure()
param appSettings object

@description('Upper bound of instances the plan may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Node.js version of the Flex Consumption runtime.')
param nodeVersion string

@description('Always-ready instances of the "durable" trigger group (orchestrator, activity and entity triggers); 0 for none. The Flex Consumption guidance recommends them for Durable Functions apps: https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#always-ready-instances')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int

@description('Subnet for outbound virtual network integration (delegated to Microsoft.App/environments), or empty for none.')
param virtualNetworkSubnetId string = ''

@description('App Service Authentication (Microsoft Entra ID) for the HTTP API, or null to leave it off.')
param callerAuthentication callerAuthenticationSettings?

@export()
@description('The service endpoints of a storage account, as in its properties.primaryEndpoints.')
type storageEndpointSet = {
  blob: string
  queue: string
  table: string
}

@export()
@description('Microsoft Entra ID for callers of the HTTP API (App Service Authentication on the Function App).')
type callerAuthenticationSettings = {
  @description('Application (client) id of the app registration that represents the API: callers request tokens for api://<clientId>/.default.')
  clientId: string

  @description('Client ids (appid/azp claim) of the callers allowed in: pipeline service principals or managed identities. At least one.')
  @minLength(1)
  allowedClientApplications: string[]

  @description('Also require a function key (both a token and a key). Default false: the token alone opens the API.')
  requireFunctionKey: bool?
}

// Read by src/functions/http-auth-level.ts at start-up: "anonymous" only takes effect while App Service
// Authentication is on (WEBSITE_AUTH_ENABLED), so the API never opens without it.
var keyRequired = callerAuthentication == null || (callerAuthentication.?requireFunctionKey ?? false)
var httpAuthLevel = keyRequired ? 'function' : 'anonymous'

// No FUNCTIONS_EXTENSION_VERSION or FUNCTIONS_WORKER_RUNTIME: on Flex Consumption the runtime comes from
// functionAppConfig.runtime and these settings are listed as removed
// (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations).
var hostSettings = {
  AzureWebJobsStorage__blobServiceUri: storageEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storageEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storageEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  DURABLE_TASK_HUB_NAME: durableTaskHubName
  HTTP_AUTH_LEVEL: httpAuthLevel
}

var allSettings = union(hostSettings, appSettings)

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'app' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(allSettings): { name: setting.key, value: string(setting.value) }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: durableAlwaysReadyInstances > 0
          ? [{ name: 'durable', instanceCount: durableAlwaysReadyInstances }]
          : []
      }
    }
  }
}

// No publishing with user names and passwords: deployments authenticate with Microsoft Entra ID (azd, az).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

// Optional: callers present a Microsoft Entra token for the API's app registration, issued to one of the allowed
// client applications; anything else gets 401 before it reaches the Functions host.
resource auth 'Microsoft.Web/sites/config@2024-11-01' = if (callerAuthentication != null) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: { requireHttps: true }
    login: { tokenStore: { enabled: false } }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: callerAuthentication!.clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${callerAuthentication!.clientId}', callerAuthentication!.clientId]
          defaultAuthorizationPolicy: {
            allowedApplications: callerAuthentication!.allowedClientApplications
          }
        }
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output id string = app.id
