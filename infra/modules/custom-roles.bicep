// The least-privilege custom roles of the runbook, defined at subscription scope.
//  - Network Joiner: what Image Builder's identity needs on the build virtual network (assign it on the vnet).
//  - Image Contributor: what Image Builder's identity needs to write the image at the very end of a build
//    (managed images and Azure Compute Gallery versions); the app grants it just in time on the destination group.
//  - Builder App Reader: the app's only subscription-level rights, read-only: list marketplace image versions
//    (base-image watcher) and read role definitions (preflight checks that the custom roles exist).
targetScope = 'subscription'

@description('Distinguishes the role names of several environments in one tenant (role names are tenant-unique).')
param nameSuffix string

var networkJoinerActions = [
  'Microsoft.Network/virtualNetworks/read'
  'Microsoft.Network/virtualNetworks/subnets/join/action'
]

var imageContributorActions = [
  'Microsoft.Compute/images/read'
  'Microsoft.Compute/images/write'
  'Microsoft.Compute/images/delete'
  'Microsoft.Compute/galleries/read'
  'Microsoft.Compute/galleries/images/read'
  'Microsoft.Compute/galleries/images/versions/read'
  'Microsoft.Compute/galleries/images/versions/write'
]

var builderAppReaderActions = [
  'Microsoft.Authorization/roleDefinitions/read'
  'Microsoft.Compute/locations/publishers/read'
  'Microsoft.Compute/locations/publishers/artifacttypes/offers/read'
  'Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/read'
  'Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read'
]

resource networkJoiner 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'jumpbox-image-builder', 'network-joiner', nameSuffix)
  properties: {
    roleName: 'Image Builder Network Joiner (${nameSuffix})'
    type: 'CustomRole'
    description: 'Lets an Azure VM Image Builder identity use an existing virtual network. Assign on the virtual network, not the subnet.'
    assignableScopes: [subscription().id]
    permissions: [
      {
        actions: networkJoinerActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource imageContributor 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'jumpbox-image-builder', 'image-contributor', nameSuffix)
  properties: {
    roleName: 'Image Builder Image Contributor (${nameSuffix})'
    type: 'CustomRole'
    description: 'Lets an Azure VM Image Builder identity distribute the built image to a resource group (managed image or gallery version). Grant just in time on the destination resource group.'
    assignableScopes: [subscription().id]
    permissions: [
      {
        actions: imageContributorActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource builderAppReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'jumpbox-image-builder', 'builder-app-reader', nameSuffix)
  properties: {
    roleName: 'Image Builder App Reader (${nameSuffix})'
    type: 'CustomRole'
    description: 'Lets the jump-box builder app list marketplace image versions (base-image updates) and read role definitions (preflight).'
    assignableScopes: [subscription().id]
    permissions: [
      {
        actions: builderAppReaderActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

@description('Resource id of the Network Joiner role definition.')
output networkJoinerRoleId string = networkJoiner.id
@description('GUID of the Network Joiner role definition.')
output networkJoinerRoleGuid string = networkJoiner.name
@description('Resource id of the Image Contributor role definition.')
output imageContributorRoleId string = imageContributor.id
@description('GUID of the Image Contributor role definition.')
output imageContributorRoleGuid string = imageContributor.name
@description('GUID of the Builder App Reader role definition.')
output builderAppReaderRoleGuid string = builderAppReader.name
