// Small compile-time helpers for resource ids. Deploys nothing.

@export()
@description('The parts of a subnet resource id /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}.')
func subnetParts(subnetId string) { subscriptionId: string, resourceGroup: string, virtualNetwork: string, vnetId: string } => {
  subscriptionId: split(subnetId, '/')[2]
  resourceGroup: split(subnetId, '/')[4]
  virtualNetwork: split(subnetId, '/')[8]
  vnetId: join(take(split(subnetId, '/'), 9), '/')
}

@export()
@description('The virtual network id that contains a subnet id, in lower case so that duplicates can be removed.')
func vnetIdOfSubnet(subnetId string) string => toLower(join(take(split(subnetId, '/'), 9), '/'))
