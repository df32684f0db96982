// Small compile-time helpers for resource ids. Deploys nothing.

@export()
@description('The virtual network id that contains a subnet id, in lower case so that duplicates can be removed.')
func vnetIdOfSubnet(subnetId string) string => toLower(join(take(split(subnetId, '/'), 9), '/'))

@export()
@description('The gallery id that contains a gallery image (or image version) id, in lower case so that duplicates can be removed.')
func galleryIdOfImage(imageId string) string => toLower(join(take(split(imageId, '/'), 9), '/'))
