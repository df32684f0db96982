// The user-assigned identity that Azure VM Image Builder runs as, and the app's right to attach it to image templates (Managed Identity Operator on this identity only).
import { builtInRoles } from '../lib/roles.bicep'

param name string
param location string
param tags object

@description('Principal id of the app identity that creates image templates using this identity.')
param appPrincipalId string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

resource appMayAssignIdentity 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(identity.id, appPrincipalId, builtInRoles.managedIdentityOperator)
  scope: identity
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      builtInRoles.managedIdentityOperator
    )
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Jump-box builder app: attach the builder identity to image templates.'
  }
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
