// One role assignment on an existing Azure Compute Gallery (in the resource group this module is deployed to),
// optionally with an ABAC condition.
targetScope = 'resourceGroup'

@description('Name of the existing gallery.')
param galleryName string

@description('Principal (service principal of a managed identity) that receives the role.')
param principalId string

@description('GUID of the role definition (built-in or custom, subscription-scoped).')
param roleDefinitionGuid string

@description('Why the principal needs this role (shown in the portal).')
param purpose string

@description('ABAC condition (version 2.0); empty for none.')
param condition string = ''

resource gallery 'Microsoft.Compute/galleries@2024-03-03' existing = {
  name: galleryName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gallery.id, principalId, roleDefinitionGuid)
  scope: gallery
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: purpose
    condition: empty(condition) ? null : condition
    conditionVersion: empty(condition) ? null : '2.0'
  }
}

output id string = assignment.id
