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

@description('Name of the storage account for AzureWebJobsStorage (host + Durable task hub).')
param storageAccountName string

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

var hostSettings = {
  // Flex Consumption manages the runtime version and tolerates this value; apps without it have been reported to
  // fail loading their functions (azure-functions-host issue 10714), so it stays explicit.
  FUNCTIONS_EXTENSION_VERSION: '~4'
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  DURABLE_TASK_HUB_NAME: durableTaskHubName
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
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output id string = app.id
