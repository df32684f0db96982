// Build alerts and a workbook over the app's build telemetry (src/telemetry/build-telemetry.ts), in the Log
// Analytics workspace behind Application Insights (tables AppRequests and AppMetrics):
//   - a build ended without success (jumpbox.build.completed with a result other than Succeeded);
//   - a janitor sweep failed, so an Image Contributor grant may still be present (jumpbox.janitor.sweeps);
//   - no successful build of a definition for staleAfterDays days (jumpbox.definition.days_since_success,
//     recorded at every janitor run, so the alert needs only a short query window);
//   - a workbook: builds over time by result, durations, phase durations, days since success, recent builds.
// The queries read telemetry that only the deployed app emits; docs/operations.md explains each alert.

@description('Region of the alert rules and the workbook.')
param location string

param tags object

@description('Resource id of the Log Analytics workspace of the app\'s Application Insights.')
param logAnalyticsWorkspaceId string

@description('Used in the display names, e.g. the azd environment name.')
param environmentName string

@description('Action groups notified by the alerts (resource ids); none by default (alerts show in the portal).')
param actionGroupIds string[] = []

@description('Alert when a definition has had no successful build for more than this many days.')
@minValue(1)
param staleAfterDays int = 35

var actions = {
  actionGroups: actionGroupIds
}

var buildFailedQuery = '''
AppMetrics
| where Name == "jumpbox.build.completed"
| extend result = tostring(Properties["jumpbox.build.result"]), definition = tostring(Properties["jumpbox.definition"])
| where result != "Succeeded"
| summarize failures = sum(Sum) by definition, result
'''

var janitorFailedQuery = '''
AppMetrics
| where Name == "jumpbox.janitor.sweeps"
| where tostring(Properties["jumpbox.janitor.outcome"]) == "failed"
| summarize failedSweeps = sum(Sum)
| where failedSweeps > 0
'''

var staleQuery = '''
AppMetrics
| where Name == "jumpbox.definition.days_since_success"
| extend definition = tostring(Properties["jumpbox.definition"])
| summarize days = max(Sum) by definition
| where days > STALE_DAYS
'''

resource buildFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'jumpbox-build-failed-${environmentName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Jump-box image build failed (${environmentName})'
    description: 'A build ended Failed, Canceled or TimedOut. Find it in the "Jump-box image builds" workbook or with `jumpbox-builder build` / GET /api/builds?status=Failed; fixes per failure code: docs/troubleshooting.md.'
    severity: 2
    enabled: true
    scopes: [logAnalyticsWorkspaceId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: buildFailedQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            { name: 'definition', operator: 'Include', values: ['*'] }
            { name: 'result', operator: 'Include', values: ['*'] }
          ]
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: actions
  }
}

resource grantLeft 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'jumpbox-grant-left-${environmentName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Image Contributor grant may be left after the janitor (${environmentName})'
    description: 'A janitor sweep failed, so a just-in-time Image Contributor assignment of the builder identity may still exist. See docs/operations.md (the janitor) to list and remove it.'
    severity: 1
    enabled: true
    scopes: [logAnalyticsWorkspaceId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: janitorFailedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: actions
  }
}

resource stale 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'jumpbox-no-recent-success-${environmentName}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'No successful jump-box image build in ${staleAfterDays} days (${environmentName})'
    description: 'A definition\'s last successful build is older than ${staleAfterDays} days: the monthly rebuild did not succeed or did not run. Check the workbook and docs/operations.md.'
    severity: 2
    enabled: true
    scopes: [logAnalyticsWorkspaceId]
    evaluationFrequency: 'PT6H'
    windowSize: 'PT6H'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: replace(staleQuery, 'STALE_DAYS', string(staleAfterDays))
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            { name: 'definition', operator: 'Include', values: ['*'] }
          ]
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: actions
  }
}

var buildsQuery = 'AppRequests\n| where Name startswith "build "\n| extend result = tostring(Properties["jumpbox.build.result"])'

// One KQL item of the workbook (Notebook/1.0 schema).
func kqlItem(name string, title string, query string, visualization string, workspaceId string) object => {
  type: 3
  name: name
  content: {
    version: 'KqlItem/1.0'
    title: title
    query: query
    size: 0
    timeContext: { durationMs: 7776000000 }
    queryType: 0
    resourceType: 'microsoft.operationalinsights/workspaces'
    crossComponentResources: [workspaceId]
    visualization: visualization
  }
}

var workbookContent = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'intro'
      content: {
        json: '## Jump-box image builds\nOne row per build (Application Insights request `build <definition>`; `jumpbox.build.id` correlates it with the build record, the logs and `GET /api/builds/{id}`). Last 90 days.'
      }
    }
    kqlItem(
      'builds-over-time',
      'Builds per day by result',
      '${buildsQuery}\n| summarize builds = count() by bin(TimeGenerated, 1d), result',
      'barchart',
      logAnalyticsWorkspaceId
    )
    kqlItem(
      'duration-over-time',
      'Build duration (minutes) by definition',
      '${buildsQuery}\n| extend definition = tostring(Properties["jumpbox.definition"])\n| summarize minutes = avg(DurationMs) / 60000 by bin(TimeGenerated, 1d), definition',
      'timechart',
      logAnalyticsWorkspaceId
    )
    kqlItem(
      'phase-durations',
      'Average phase duration (minutes)',
      'AppMetrics\n| where Name == "jumpbox.build.phase.duration"\n| extend phase = tostring(Properties["jumpbox.build.phase"])\n| summarize minutes = sum(Sum) / sum(ItemCount) / 60 by phase',
      'barchart',
      logAnalyticsWorkspaceId
    )
    kqlItem(
      'days-since-success',
      'Days since the last successful build (-1: never)',
      'AppMetrics\n| where Name == "jumpbox.definition.days_since_success"\n| extend definition = tostring(Properties["jumpbox.definition"])\n| summarize arg_max(TimeGenerated, Sum) by definition\n| project definition, days = round(Sum, 1)',
      'table',
      logAnalyticsWorkspaceId
    )
    kqlItem(
      'recent-builds',
      'Recent builds',
      '${buildsQuery}\n| project TimeGenerated, definition = tostring(Properties["jumpbox.definition"]), buildId = tostring(Properties["jumpbox.build.id"]), result, minutes = round(DurationMs / 60000, 1), error = tostring(Properties["error.type"]), image = tostring(Properties["jumpbox.image.id"]), logs = tostring(Properties["jumpbox.build.logs"])\n| order by TimeGenerated desc\n| take 100',
      'table',
      logAnalyticsWorkspaceId
    )
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, 'jumpbox-builds-workbook', environmentName)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Jump-box image builds (${environmentName})'
    category: 'workbook'
    sourceId: logAnalyticsWorkspaceId
    serializedData: string(workbookContent)
  }
}

output alertRuleIds string[] = [buildFailed.id, grantLeft.id, stale.id]
output workbookId string = workbook.id
