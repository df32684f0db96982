// Parameters for azd (azd provision reads this file and exports the environment's values first) or for
//   az deployment sub create -l <region> -f infra/main.bicep -p infra/main.bicepparam
// Required: AZURE_ENV_NAME, AZURE_LOCATION (azd sets both) and BUILD_SUBNET_ID (azd env set BUILD_SUBNET_ID ...).
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param buildSubnetId = readEnvironmentVariable('BUILD_SUBNET_ID')

// Optional: a JSON array of image definitions (same schema as the app's IMAGE_DEFINITIONS).
param imageDefinitions = json(readEnvironmentVariable('IMAGE_DEFINITIONS', '[{"name":"aks-jumpbox"}]'))

// Optional: notified when a build ends.
param notificationWebhookUrl = readEnvironmentVariable('NOTIFICATION_WEBHOOK_URL', '')

// Optional, after the first `azd deploy`: deliver gallery image version events to the app.
param subscribeToGalleryImageEvents = bool(readEnvironmentVariable('SUBSCRIBE_TO_GALLERY_IMAGE_EVENTS', 'false'))

// Optional: the subscription's existing Event Grid system topic, as JSON {"name":"...","resourceGroup":"..."}.
param existingSubscriptionSystemTopic = json(readEnvironmentVariable('EXISTING_SUBSCRIPTION_SYSTEM_TOPIC', 'null'))

// Optional: always-ready instances for the durable trigger group (default 1; 0 = none, cheapest).
param durableAlwaysReadyInstances = int(readEnvironmentVariable('DURABLE_ALWAYS_READY_INSTANCES', '1'))

// Optional: galleries beyond those named in IMAGE_DEFINITIONS, as JSON arrays of gallery ids.
param sourceGalleryIds = json(readEnvironmentVariable('SOURCE_GALLERY_IDS', '[]'))
param destinationGalleryIds = json(readEnvironmentVariable('DESTINATION_GALLERY_IDS', '[]'))

// Optional: private networking, as JSON {"appSubnetId":"...","privateEndpointSubnetId":"...","privateDnsZoneIds":{...}}.
param privateNetworking = json(readEnvironmentVariable('PRIVATE_NETWORKING', 'null'))

// Optional: Microsoft Entra ID for callers, as JSON {"clientId":"...","allowedClientApplications":["..."]}.
param callerAuthentication = json(readEnvironmentVariable('CALLER_AUTHENTICATION', 'null'))
