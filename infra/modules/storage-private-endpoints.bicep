// Private endpoints of the app's storage account (blob - which also serves the deployment container and the log
// archive -, queue and table) in a subnet of your virtual network, each registered in its private DNS zone.
// The zones are created and linked to the virtual network here, or, when your hub already hosts them, given by id.
param storageAccountId string
param location string
param tags object

@description('Subnet of the private endpoints.')
param subnetId string

@description('Existing private DNS zone ids per service (blob, queue, table), or null to create the zones here and link them to the subnet\'s virtual network.')
param existingDnsZoneIds object?

var services = ['blob', 'queue', 'table']
var vnetId = join(take(split(subnetId, '/'), 9), '/')
var accountName = last(split(storageAccountId, '/'))

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for service in services: if (existingDnsZoneIds == null) {
    name: 'privatelink.${service}.${environment().suffixes.storage}'
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (service, i) in services: if (existingDnsZoneIds == null) {
    parent: zones[i]
    name: 'link-${uniqueString(vnetId)}'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnetId }
    }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for service in services: {
    name: 'pe-${accountName}-${service}'
    location: location
    tags: tags
    properties: {
      subnet: { id: subnetId }
      privateLinkServiceConnections: [
        {
          name: 'pe-${accountName}-${service}'
          properties: {
            privateLinkServiceId: storageAccountId
            groupIds: [service]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (service, i) in services: {
    parent: endpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: service
          properties: {
            privateDnsZoneId: existingDnsZoneIds == null ? zones[i].id : existingDnsZoneIds![service]
          }
        }
      ]
    }
    dependsOn: [links]
  }
]

output endpointIds string[] = [for (service, i) in services: endpoints[i].id]
