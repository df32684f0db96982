// Data-plane rights of the app identity on its own storage account. The Functions host and the Durable
// task hub (Azure Storage provider) need blob, queue and table access; the app writes archived logs and records.
import { builtInRoles } from '../lib/roles.bicep'

param storageAccountName string

@description('Principal id of the app identity.')
param appPrincipalId string

var roles = [
  builtInRoles.storageBlobDataOwner
  builtInRoles.storageQueueDataContributor
  builtInRoles.storageTableDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource dataAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(account.id, appPrincipalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      description: 'Jump-box builder app: Functions host, Durable task hub, log archive and build records.'
    }
  }
]
