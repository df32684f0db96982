// Log Analytics + workspace-based Application Insights with local (key) authentication disabled:
// telemetry is accepted only from Microsoft Entra identities holding Monitoring Metrics Publisher.
import { builtInRoles } from '../lib/roles.bicep'

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

@description('Days Log Analytics keeps data.')
param retentionInDays int

@description('Principal id of the app identity that sends telemetry.')
param appPrincipalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

resource appMayPublishTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, builtInRoles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      builtInRoles.monitoringMetricsPublisher
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Jump-box builder app: Entra-authenticated telemetry ingestion.'
  }
}

@description('Not a secret: it identifies the component; ingestion still needs an Entra token.')
output connectionString string = appInsights.properties.ConnectionString
output applicationInsightsId string = appInsights.id
output logAnalyticsWorkspaceId string = workspace.id
