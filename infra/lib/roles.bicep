// Role definition GUIDs and the ABAC condition that limits what the app may delegate.
// Compile-time only: imported by main.bicep and the modules, deploys nothing.

@export()
@description('Built-in role definition GUIDs used by this deployment (the same in every Azure cloud).')
var builtInRoles = {
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830'
  roleBasedAccessControlAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  tagContributor: '4a9ae827-6dc8-4573-8ac7-8239d42aa03f'
}

// The attributes of one side of the condition: @Request for writes, @Resource for deletes.
func assignmentAttributes(source string, roleGuids string[], principalIds string[]) string =>
  join(
    concat(
      [
        '@${source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${join(roleGuids, ', ')}}'
        '@${source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'}'
      ],
      empty(principalIds)
        ? []
        : [
            '@${source}[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {${join(principalIds, ', ')}}'
          ]
    ),
    ' AND '
  )

@export()
@description('''ABAC condition (version 2.0) for a "Role Based Access Control Administrator" assignment: the holder may
create and delete role assignments only for the given role definition GUIDs, only for service principals and, when
principalIds is not empty, only for those principals. Anything else is denied.''')
func delegatedAssignmentCondition(roleGuids string[], principalIds string[]) string =>
  '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (${assignmentAttributes('Request', roleGuids, principalIds)})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (${assignmentAttributes('Resource', roleGuids, principalIds)}))'
