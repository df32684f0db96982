// One role assignment at subscription scope (used only for the read-only Builder App Reader custom role).
targetScope = 'subscription'

@description('Principal (service principal of a managed identity) that receives the role.')
param principalId string

@description('GUID of the role definition.')
param roleDefinitionGuid string

@description('Why the principal needs this role (shown in the portal).')
param purpose string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: purpose
  }
}

output id string = assignment.id
